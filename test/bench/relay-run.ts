/**
 * One configuration of the relay benchmark: the real engine against a scripted loopback server,
 * k APDUs forwarded per approval and the same k APDUs sent straight to the card (relay.ts has
 * the method).
 * @module
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { openAuditLog } from '../../core/audit/audit-log';
import { ApduChannel } from '../../core/card/apdu-channel';
import { createCustodianEngine } from '../../core/custodian/engine';
import type { EngineEvent } from '../../core/custodian/engine-types';
import { createWsConnector } from '../../core/net/ws-transport';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { createInProcessTransport } from '../../emulator/transport/in-process';
import { asciiBytes, fromHex } from '../../shared/codec/bytes';
import {
  encodeServerMessage,
  parseClientMessage,
  PROTOCOL_NAME,
  type ServerMessage,
} from '../../shared/protocol/index';
import { unwrap } from '../../shared/result';
import {
  benchCustodian,
  benchOffer,
  benchPki,
  benchTarget,
  BENCH_PIN,
  timedCard,
} from './fixtures';
import { summarize, type Summary } from './stats';
import { shownRef } from '../integration/custodian/offer-ref';

/** One configuration's figures (milliseconds). */
export type RelayRun = {
  /** Where the audit log lived. */
  readonly audit: 'disk' | 'tmpfs';
  /** ((b) − (a)) / k per approval. */
  readonly perApdu: Summary;
  /** Cross-check: ((b) − card time of the k APDUs inside (b)) / k. */
  readonly perApduInside: Summary;
  /** (b): PIN verified → decision read, k APDUs forwarded, minus the card reset after them. */
  readonly forwarded: Summary;
  /** (a): the same k APDUs straight to the card. */
  readonly direct: Summary;
  /** Per-approval fixed costs. */
  readonly fixed: {
    /** Offer written → engine reports it verified (one-way WS, parse, verification). */
    readonly arrival: Summary;
    /** approve() → PIN verified and audited (re-check, approval audit, card session, PIN). */
    readonly approveToScript: Summary;
    /** Card time inside that (select, key list, PIN status twice, VERIFY). */
    readonly approveToScriptCard: Summary;
    /** The VERIFY PIN APDU on the card. */
    readonly pinVerify: Summary;
    /** The card reset and release after the script (taken out of (b)). */
    readonly reset: Summary;
    /** Offer written → decision read. */
    readonly total: Summary;
    readonly totalCard: Summary;
  };
};

/** The card, target and anchor shared by both configurations. */
export type World = Awaited<ReturnType<typeof relayWorld>>;

/** Sets up the TEST PKI, the custodian card and a target. */
export async function relayWorld() {
  const { ca, anchor } = benchPki();
  const cust = await benchCustodian(ca);
  const target = benchTarget(ca);
  return { anchor, cust, target, timed: timedCard(cust.card), seq: 0 };
}

const send = (ws: WebSocket, m: ServerMessage) => ws.send(unwrap(encodeServerMessage(m)));
const sum = (xs: readonly { start: number; end: number }[]) =>
  xs.reduce((a, c) => a + (c.end - c.start), 0);

/** (a): `script` straight to the card, PIN verified before the clock starts. */
async function direct(w: World, script: readonly Uint8Array[]): Promise<number> {
  const t = createInProcessTransport(w.cust.card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.verifyPin(asciiBytes(BENCH_PIN));
  const answers: Uint8Array[] = [];
  const t0 = performance.now();
  for (const apdu of script) answers.push(await t.transmit(apdu));
  const dt = performance.now() - t0;
  await t.close('reset');
  for (const r of answers) if (r[r.length - 2] !== 0x90) throw new Error('direct APDU failed');
  return dt;
}

/** Runs `warmup + n` approvals with the audit log in `auditDir`. */
export async function runConfig(
  w: World,
  audit: RelayRun['audit'],
  auditDir: string,
  n: number,
  warmup: number,
): Promise<{ run: RelayRun; decisionText: string }> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (p) => (p.has(PROTOCOL_NAME) ? PROTOCOL_NAME : false),
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let peer: WebSocket | undefined;
  let onDecision: ((t: number, offerId: string, text: string) => void) | undefined;
  wss.on('connection', (ws) => {
    peer = ws;
    ws.on('message', (data) => {
      const t = performance.now();
      const text = data.toString();
      const m = unwrap(parseClientMessage(text));
      if (m.type === 'hello') {
        send(ws, {
          v: 1,
          type: 'welcome',
          custodianId: 'cus-bench',
          serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          heartbeatSeconds: 60,
        });
      } else if (m.type === 'decision') onDecision?.(t, m.offerId, text);
    });
  });
  const log = openAuditLog(join(auditDir, 'audit.jsonl'));
  const marks = { pinVerified: 0 };
  let onEvent: (e: EngineEvent) => void = () => undefined;
  const engine = createCustodianEngine({
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
    connector: createWsConnector(),
    auth: { kind: 'session', custodianId: 'cus-bench', credential: 'B'.repeat(43) },
    anchors: [w.anchor],
    ownKey: { keyId: w.cust.keyId, chr: w.cust.keyChr },
    openCard: w.timed.open,
    // The shipped audit log, passed through as it is: per-APDU entries are written with
    // `{ sync: false }` and synced once before the decision leaves (core/custodian/script-runner.ts).
    audit: {
      append(kind, data, options) {
        const entry = log.append(kind, data, options);
        // The engine writes this entry right before the script's first APDU.
        if (kind === 'pin-verified') marks.pinVerified = performance.now();
        return entry;
      },
      sync: () => log.sync(),
    },
    reconnect: false,
  });
  const authenticated = new Promise<void>((resolve) => {
    onEvent = (e) => e.type === 'connection' && e.state.kind === 'authenticated' && resolve();
  });
  engine.on((e) => onEvent(e));
  engine.start();
  await authenticated;

  const s = {
    perApdu: [] as number[],
    inside: [] as number[],
    b: [] as number[],
    a: [] as number[],
    arrival: [] as number[],
    toScript: [] as number[],
    toScriptCard: [] as number[],
    pin: [] as number[],
    total: [] as number[],
    totalCard: [] as number[],
    reset: [] as number[],
  };
  let decisionText = '';
  const pin = { kind: 'typed' as const, read: async () => asciiBytes(BENCH_PIN) };
  for (let i = 0; i < warmup + n; i++) {
    w.seq += 1;
    // The offer as the server sends it: one APDU, the PKA SIGN (server/ceremonies).
    const offer = benchOffer(w.seq, w.target, w.cust);
    const script = offer.script.apdus.map(fromHex);
    const k = script.length;
    const directFirst = i % 2 === 0;
    const a = directFirst ? await direct(w, script) : 0;
    w.timed.calls.length = 0;
    w.timed.closes.length = 0;
    let added = 0;
    let approveCalled = 0;
    const decided = new Promise<number>((resolve) => {
      onDecision = (t, offerId, text) => {
        if (offerId !== offer.offerId) return;
        decisionText = text;
        resolve(t);
      };
    });
    const approved = new Promise<void>((resolve, reject) => {
      onEvent = (e) => {
        if (e.type === 'offer-rejected') reject(new Error(e.rejection.message));
        if (e.type !== 'offer-added' || e.offer.ceremonyId !== offer.ceremonyId) return;
        added = performance.now();
        approveCalled = performance.now();
        void engine.approve(shownRef(engine, offer.ceremonyId), pin).then((o) => {
          if (o.kind !== 'approved' || o.forwarded !== k) reject(new Error(`approval: ${o.kind}`));
          else resolve();
        });
      };
    });
    const t0 = performance.now();
    send(peer!, offer);
    const [t1] = await Promise.all([decided, approved]);
    const calls = [...w.timed.calls];
    const closes = [...w.timed.closes];
    // End the ceremony so the engine's offer book stays small, as a real server would.
    const removed = new Promise<void>((resolve) => {
      onEvent = (e) => e.type === 'offer-removed' && e.ceremonyId === offer.ceremonyId && resolve();
    });
    const progress = { authenticated: 1, approvedBy: ['bench'] };
    const ids = { ceremonyId: offer.ceremonyId, offerId: offer.offerId };
    send(peer!, { v: 1, type: 'result', ...ids, outcome: 'accepted', sw: 0x9000, progress });
    send(peer!, {
      v: 1,
      type: 'update',
      ceremonyId: offer.ceremonyId,
      state: 'completed',
      progress,
    });
    await removed;
    const aa = directFirst ? a : await direct(w, script);
    if (i < warmup) continue;
    if (calls.length < k + 1) throw new Error(`only ${calls.length} card APDUs for ${k} step(s)`);
    const inScript = calls.slice(-k);
    const before = calls.slice(0, -k);
    // A card reset before the decision left (a card operation (a) does not do) is not part of
    // (b); one after it (the engine sends first, resets after) is outside (b) anyway.
    const resetInside = sum(closes.filter((c) => c.end <= t1));
    const b = t1 - marks.pinVerified - resetInside;
    s.a.push(aa);
    s.b.push(b);
    s.perApdu.push((b - aa) / k);
    s.inside.push((b - sum(inScript)) / k);
    s.arrival.push(added - t0);
    s.toScript.push(marks.pinVerified - approveCalled);
    s.toScriptCard.push(sum(before));
    s.reset.push(resetInside);
    s.pin.push(sum(before.slice(-1)));
    s.total.push(t1 - t0);
    s.totalCard.push(sum(calls));
  }
  engine.stop();
  log.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return {
    decisionText,
    run: {
      audit,
      perApdu: summarize(s.perApdu),
      perApduInside: summarize(s.inside),
      forwarded: summarize(s.b),
      direct: summarize(s.a),
      fixed: {
        arrival: summarize(s.arrival),
        approveToScript: summarize(s.toScript),
        approveToScriptCard: summarize(s.toScriptCard),
        pinVerify: summarize(s.pin),
        reset: summarize(s.reset),
        total: summarize(s.total),
        totalCard: summarize(s.totalCard),
      },
    },
  };
}
