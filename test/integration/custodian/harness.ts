import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { openAuditLog, type AuditLog } from '../../../core/audit/audit-log';
import { ApduChannel } from '../../../core/card/apdu-channel';
import type { CardTransport } from '../../../core/card/transport';
import { createCustodianEngine, type CustodianEngine } from '../../../core/custodian/engine';
import type { DecisionStore } from '../../../core/custodian/decision-store';
import type { EngineEvent } from '../../../core/custodian/engine-types';
import { createWsConnector, type WsConnector } from '../../../core/net/ws-transport';
import type { Timers } from '../../../core/net/timers';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { generateTestCa, type TestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState, stateToJson } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { encodeCommandApdu, type CommandApdu } from '../../../shared/codec/apdu';
import { asciiBytes, concatBytes, toHex } from '../../../shared/codec/bytes';
import { anchorFromCvc, type TrustAnchor } from '../../../shared/cvc/chain';
import {
  encodeServerMessage,
  parseClientMessage,
  type ClientMessage,
  type OfferMessage,
  type ServerMessage,
} from '../../../shared/protocol/index';
import { unwrap } from '../../../shared/result';
import { signCommand } from '../../../shared/sc-hsm/sign';

export const PIN = '648219';
export const SO_PIN = '3537363231383830';

/** One shared test PKI (key generation on brainpool is slow-ish; reuse it). */
let sharedCa: TestCa | undefined;
export function testCa(): TestCa {
  sharedCa ??= generateTestCa();
  return sharedCa;
}

/** The custodian's emulated card: initialized with PIN 648219 (3 tries) and one PKA key. */
export async function custodianCard(serial = 101) {
  const ca = testCa();
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial }));
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3 });
  await hsm.verifyPin(asciiBytes(PIN));
  const key = await hsm.generateCustodianKey({ label: 'custodian key' });
  await t.close('reset');
  /** APDUs the engine sent to the card, across all connections. */
  const seen: Uint8Array[] = [];
  let opens = 0;
  const openCard = async (): Promise<CardTransport> => {
    opens += 1;
    const inner = createInProcessTransport(card);
    return {
      ...inner,
      get atr() {
        return inner.atr;
      },
      transmit: async (apdu) => {
        seen.push(apdu.slice());
        return inner.transmit(apdu);
      },
      transaction: (fn) => inner.transaction(fn),
      close: (d) => inner.close(d),
      reset: () => inner.reset(),
    };
  };
  return {
    card,
    key,
    seen,
    openCard,
    get opens() {
      return opens;
    },
    snapshot: () => stateToJson(card.state),
  };
}

/** A target device (never run here: only its EF 2F02 identity matters to the custodian). */
export function targetDevice(serial = 202, ca: TestCa = testCa()) {
  const state = createDeviceState(ca, { serial });
  return { chain: state.identity.certificates, chr: state.identity.chr };
}

export function anchorOf(ca: TestCa = testCa()): TrustAnchor {
  return unwrap(anchorFromCvc(ca.root.cvc, 'test root'));
}

export function hexApdu(cmd: CommandApdu): string {
  return toHex(unwrap(encodeCommandApdu(cmd)));
}

/** The correct PKA SIGN for a target and challenge. */
export function pkaSign(keyId: number, targetChr: Uint8Array, challenge: Uint8Array): string {
  return hexApdu(unwrap(signCommand(keyId, 0x73, concatBytes(targetChr, challenge))));
}

let seq = 0;
/** An offer for `target` signed by key `key`. */
export function makeOffer(
  target: { chain: Uint8Array; chr: Uint8Array },
  key: { keyId: number; chr: string },
  over: Partial<OfferMessage> = {},
): OfferMessage {
  seq += 1;
  const challenge = Uint8Array.from({ length: 8 }, (_, i) => (seq * 31 + i * 7) & 0xff);
  const deviceId = new TextDecoder().decode(target.chr);
  return {
    v: 1,
    type: 'offer',
    ceremonyId: `cer-${seq}`,
    offerId: `off-${seq}`,
    target: { label: 'Root CA HSM', deviceId, chain: toHex(target.chain) },
    purpose: 'Activate the root CA for the CRL run',
    requester: 'alice@example.org',
    quorum: { n: 2, m: 3 },
    progress: { authenticated: 0, approvedBy: [] },
    expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    challenge: toHex(challenge),
    key,
    script: { apdus: [pkaSign(key.keyId, target.chr, challenge)] },
    ...over,
  };
}

/** A scripted server: validates every client frame with the real protocol parser. */
export async function fakeServer() {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (p) => (p.has('custodian.v1') ? 'custodian.v1' : false),
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as AddressInfo).port;
  const frames: string[] = [];
  const messages: ClientMessage[] = [];
  const sockets: WebSocket[] = [];
  let onHello: (ws: WebSocket, m: ClientMessage) => void = (ws) =>
    send(ws, {
      v: 1,
      type: 'welcome',
      custodianId: 'cust-1',
      serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      heartbeatSeconds: 15,
    });
  const waiters: { pred: (m: ClientMessage) => boolean; resolve: (m: ClientMessage) => void }[] =
    [];
  function send(ws: WebSocket, m: ServerMessage) {
    ws.send(unwrap(encodeServerMessage(m)));
  }
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const text = String(data);
      frames.push(text);
      const m = unwrap(parseClientMessage(text));
      messages.push(m);
      if (m.type === 'hello') onHello(ws, m);
      for (const w of [...waiters]) {
        if (w.pred(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${port}/custodian`,
    frames,
    messages,
    sockets,
    get current() {
      return sockets.at(-1)!;
    },
    setOnHello(fn: typeof onHello) {
      onHello = fn;
    },
    send,
    broadcast(m: ServerMessage) {
      send(sockets.at(-1)!, m);
    },
    next(pred: (m: ClientMessage) => boolean, already = true): Promise<ClientMessage> {
      if (already) {
        const hit = messages.find(pred);
        if (hit) return Promise.resolve(hit);
      }
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close: () =>
      new Promise<void>((r) => {
        for (const ws of sockets) ws.terminate();
        wss.close(() => r());
      }),
  };
}

/** An engine wired to a server and a card, with its events collected. */
export function startEngine(opts: {
  url: string;
  openCard: () => Promise<CardTransport>;
  keyId: number;
  keyChr: string;
  anchors?: TrustAnchor[];
  backoff?: { initialMs: number; maxMs: number };
  decisions?: DecisionStore;
  timers?: Timers;
  /** Wraps the real `ws` connector (e.g. to log frames as they leave). */
  connector?: (inner: WsConnector) => WsConnector;
}): {
  engine: CustodianEngine;
  events: EngineEvent[];
  audit: AuditLog;
  auditPath: string;
  next: (pred: (e: EngineEvent) => boolean) => Promise<EngineEvent>;
} {
  const auditPath = join(mkdtempSync(join(tmpdir(), 'cust-audit-')), 'audit.jsonl');
  const audit = openAuditLog(auditPath);
  const events: EngineEvent[] = [];
  const waiters: { pred: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void }[] = [];
  const engine = createCustodianEngine({
    url: opts.url,
    connector: opts.connector ? opts.connector(createWsConnector()) : createWsConnector(),
    auth: { kind: 'session', custodianId: 'cust-1', credential: 'C'.repeat(43) },
    anchors: opts.anchors ?? [anchorOf()],
    ownKey: { keyId: opts.keyId, chr: opts.keyChr },
    openCard: opts.openCard,
    audit,
    backoff: opts.backoff ?? { initialMs: 50, maxMs: 200 },
    ...(opts.decisions ? { decisions: opts.decisions } : {}),
    ...(opts.timers ? { timers: opts.timers } : {}),
  });
  engine.on((e) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  engine.start();
  return {
    engine,
    events,
    audit,
    auditPath,
    next(pred) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

/** A typed PIN source that records how often it was asked. */
export function typedPin(pin: string) {
  const prompts: { retries?: number; lastTry: boolean }[] = [];
  const given: Uint8Array[] = [];
  return {
    prompts,
    given,
    source: {
      kind: 'typed' as const,
      read: async (p: { retries?: number; lastTry: boolean }) => {
        prompts.push(p);
        const b = asciiBytes(pin);
        given.push(b);
        return b;
      },
    },
  };
}
