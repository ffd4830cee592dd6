/**
 * Child process of the load stage (test/bench/load.ts): the custodians. Runs the REAL custodian
 * engine (core/custodian/engine.ts) over the real `ws` connector for each seat it is given, each
 * with its own emulated card (in-process transport) and its own audit log, and reports to the
 * parent over IPC: enrolled → every offer held → after `go`, each engine approves at once and the
 * time its decision frame left, and the server's answer to it.
 *
 * Card keys: `keys` distinct custodian cards are set up (key generated on the card, `.pka`
 * exported) and each seat gets its own copy of one of them (seat j of a target: key j mod `keys`), so 1,000
 * seats cost `keys` key generations; every seat still signs on its own card object. Audit logs go
 * to a memory file system when one is given (each real custodian has a disk of their own).
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog, type AuditLog } from '../../core/audit/audit-log';
import { createChainCache } from '../../core/custodian/chain-cache';
import { createCustodianEngine, type CustodianEngine } from '../../core/custodian/engine';
import { refOf, type EngineEvent, type OfferView } from '../../core/custodian/engine-types';
import { createWsConnector, type WsConnector } from '../../core/net/ws-transport';
import { setUpCustodianCard } from '../../demo/cards';
import { typedPin } from '../../demo/custodian';
import type { TestCa } from '../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../emulator/card/state-file';
import { createInProcessTransport } from '../../emulator/transport/in-process';
import { anchorFromCvc } from '../../shared/cvc/chain';
import { unwrap } from '../../shared/result';

/** One custodian seat: an enrollment token for a target. */
export type LoadSeat = {
  readonly target: string;
  readonly name: string;
  readonly token: string;
  /** Which custodian key this seat holds a copy of (distinct within a target). */
  readonly key: number;
};

/** Parent → child. */
export type ToCustodians =
  | {
      readonly type: 'init';
      readonly ca: TestCa;
      readonly wsUrl: string;
      readonly seats: readonly LoadSeat[];
      readonly keys: number;
      /** Where the audit logs go (a tmpfs directory when available). */
      readonly auditDir: string;
      /** Enrollments in flight at once. */
      readonly concurrency: number;
    }
  | { readonly type: 'wait-offers'; readonly ceremonies: Readonly<Record<string, string>> }
  | { readonly type: 'go' }
  | { readonly type: 'stop' };

/** The outcome of one seat's approval. */
export type SeatOutcome = {
  readonly target: string;
  readonly ceremonyId: string;
  /** When the decision frame was handed to the socket (epoch ms, sub-ms resolution). */
  readonly sentAt: number | undefined;
  /** `accepted`/`refused` (a result), `error:<code>` (the server refused it), `not-sent:<why>`. */
  readonly reply: string;
};

/** Child → parent. */
export type FromCustodians =
  | { readonly type: 'enrolled'; readonly seats: number; readonly ms: number }
  | { readonly type: 'offers' }
  | {
      readonly type: 'done';
      readonly outcomes: readonly SeatOutcome[];
      readonly cpuMs: number;
      readonly firstSentAt: number;
      readonly lastSentAt: number;
    }
  | { readonly type: 'failed'; readonly message: string };

const PIN = '27182818';
const now = () => performance.timeOrigin + performance.now();

type Seat = LoadSeat & {
  engine: CustodianEngine | undefined;
  audit: AuditLog;
  events: EngineEvent[];
  offer: OfferView | undefined;
  sentAt: number | undefined;
  wake: (() => void) | undefined;
};

const seats: Seat[] = [];
let ceremonies: Readonly<Record<string, string>> = {};
let auditRoot: string | undefined;

const send = (m: FromCustodians) => process.send!(m);

/** Waits until `done(seat)` holds, re-checking at each event of the seat. */
async function until(seat: Seat, done: (s: Seat) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (!done(seat)) {
    const stopped = seat.events.find((e) => e.type === 'connection' && e.state.kind === 'stopped');
    if (stopped && stopped.type === 'connection' && stopped.state.kind === 'stopped') {
      const why = seat.events
        .flatMap((e) => (e.type === 'server-error' || e.type === 'auth-refused' ? [e] : []))
        .map(
          (e) =>
            `${e.type}: ${'code' in e ? `${e.code} ` : ''}${'message' in e ? e.message : e.reason}`,
        )
        .join('; ');
      throw new Error(
        `${seat.name}: connection stopped (${stopped.state.reason}${why ? `; ${why}` : ''}) while waiting for ${what}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`${seat.name}: no ${what} within 300 s`);
    await new Promise<void>((r) => {
      const t = setTimeout(r, 1000);
      seat.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }
}

/** A connector that notes when this seat's decision frame is handed to the socket. */
function timing(inner: WsConnector, seat: () => Seat): WsConnector {
  return (url, events) => {
    const conn = inner(url, events);
    return {
      send(text) {
        if (text.includes('"type":"decision"')) seat().sentAt ??= now();
        conn.send(text);
      },
      close: (code, reason) => conn.close(code, reason),
      terminate: () => conn.terminate(),
    };
  };
}

async function init(m: Extract<ToCustodians, { type: 'init' }>): Promise<void> {
  const t0 = performance.now();
  const anchor = unwrap(anchorFromCvc(m.ca.root.cvc, 'load bench TEST root'));
  const bases: {
    state: EmulatedSmartCardHsm['state'];
    keyId: number;
    keyChr: string;
    pka: Uint8Array;
  }[] = [];
  for (let k = 0; k < m.keys; k++) {
    const card = new EmulatedSmartCardHsm(createDeviceState(m.ca, { serial: 40_000 + k }));
    const key = await setUpCustodianCard(createInProcessTransport(card), `key${k}`, PIN);
    bases.push({ state: card.state, ...key });
  }
  auditRoot = mkdtempSync(join(m.auditDir, 'custodian-load-'));
  const chainCache = createChainCache();
  const connector = createWsConnector();
  const start = (s: LoadSeat, i: number): Seat => {
    const base = bases[s.key % bases.length]!;
    const card = new EmulatedSmartCardHsm(structuredClone(base.state));
    const audit = openAuditLog(join(auditRoot!, `${i}.jsonl`));
    const full: Seat = {
      ...s,
      engine: undefined,
      audit,
      events: [],
      offer: undefined,
      sentAt: undefined,
      wake: undefined,
    };
    const engine = createCustodianEngine({
      url: m.wsUrl,
      connector: timing(connector, () => full),
      auth: { kind: 'enroll', token: s.token, pka: base.pka, keyId: base.keyId },
      anchors: [anchor],
      ownKey: { keyId: base.keyId, chr: base.keyChr },
      openCard: async () => createInProcessTransport(card),
      audit,
      chainCache,
      reconnect: false,
      client: { name: 'custodian-load-bench', version: '0.1.0' },
    });
    full.engine = engine;
    engine.on((e) => {
      full.events.push(e);
      if (e.type === 'offer-added' && e.offer.ceremonyId === ceremonies[full.target]) {
        full.offer = e.offer;
      }
      full.wake?.();
    });
    engine.start();
    return full;
  };
  // Enroll in waves: every enrollment is a chain check on the server and a registration at its
  // target's card; the seat stays connected as an authenticated session afterwards.
  let next = 0;
  const worker = async () => {
    while (next < m.seats.length) {
      const i = next++;
      const seat = start(m.seats[i]!, i);
      seats[i] = seat;
      await until(seat, (s) => s.events.some((e) => e.type === 'enrolled'), 'enrollment');
    }
  };
  await Promise.all(Array.from({ length: m.concurrency }, worker));
  send({ type: 'enrolled', seats: seats.length, ms: performance.now() - t0 });
}

/** The server's answer to this seat's decision, if any yet. */
function replyOf(s: Seat): string | undefined {
  const offerId = s.offer?.offerId;
  for (const e of s.events) {
    if (e.type === 'result' && e.result.offerId === offerId) return e.result.outcome;
    if (e.type === 'server-error' && e.offerId === offerId) return `error:${e.code}`;
  }
  return undefined;
}

async function go(): Promise<void> {
  const cpu0 = process.cpuUsage();
  const outcomes = await Promise.all(
    seats.map(async (s): Promise<SeatOutcome> => {
      const ceremonyId = ceremonies[s.target]!;
      const r = await s.engine!.approve(refOf(s.offer!), typedPin(PIN).source);
      if (r.kind !== 'approved' || s.sentAt === undefined) {
        return { target: s.target, ceremonyId, sentAt: s.sentAt, reply: `not-sent:${r.kind}` };
      }
      await until(s, (x) => replyOf(x) !== undefined, 'answer to the decision');
      return { target: s.target, ceremonyId, sentAt: s.sentAt, reply: replyOf(s)! };
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const sent = outcomes.flatMap((o) => (o.sentAt === undefined ? [] : [o.sentAt]));
  send({
    type: 'done',
    outcomes,
    cpuMs: (cpu.user + cpu.system) / 1000,
    firstSentAt: Math.min(...sent),
    lastSentAt: Math.max(...sent),
  });
}

function stop(): void {
  for (const s of seats) {
    s.engine?.stop();
    s.audit.close();
  }
  if (auditRoot) rmSync(auditRoot, { recursive: true, force: true });
  setTimeout(() => process.exit(0), 200).unref();
}

process.on('message', (raw) => {
  const m = raw as ToCustodians;
  const fail = (e: unknown) =>
    send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  switch (m.type) {
    case 'init':
      return void init(m).catch(fail);
    case 'wait-offers':
      ceremonies = m.ceremonies;
      for (const s of seats) {
        // A new round: this seat's offer and decision are the new ceremony's.
        s.offer = undefined;
        s.sentAt = undefined;
        const o = s.engine!.offers().find((x) => x.ceremonyId === ceremonies[s.target]);
        if (o) s.offer = o;
      }
      return void Promise.all(seats.map((s) => until(s, (x) => x.offer !== undefined, 'offer')))
        .then(() => send({ type: 'offers' }))
        .catch(fail);
    case 'go':
      return void go().catch(fail);
    case 'stop':
      return stop();
  }
});
process.on('disconnect', stop);
