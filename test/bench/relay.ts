/**
 * Relay overhead per forwarded APDU. A scripted server on loopback sends valid offers to the
 * REAL custodian engine (real `ws` connector, offer verification, local PIN, firewall, script
 * runner, fsync'd audit log) with an in-process custodian card. Per approval we take the time
 * from the server writing the offer to the server reading the decision, and subtract the time
 * the card itself spent on every APDU of that approval (timed inside the transport). A PKA
 * approval forwards exactly one APDU (the SIGN, reference §6.6 step 4), so the remainder is the
 * relay overhead of that APDU. The direct card call (the same SIGN sent straight to a card) is
 * measured in the same run, as are the parts the overhead is made of.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';
import { openAuditLog } from '../../core/audit/audit-log';
import { ApduChannel } from '../../core/card/apdu-channel';
import { verifyOffer } from '../../core/custodian/offer-verify';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { typedPin, startCustodian, type CustodianClient } from '../../demo/custodian';
import { createInProcessTransport } from '../../emulator/transport/in-process';
import { asciiBytes } from '../../shared/codec/bytes';
import { createApduFirewall } from '../../shared/policy/firewall';
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
  pkaSignApdu,
  timedCard,
} from './fixtures';
import { summarize, type Summary } from './stats';

/** What the relay benchmark measured (milliseconds). */
export type RelayResult = {
  readonly samples: number;
  /** Offer written by the server → decision read by the server. */
  readonly total: Summary;
  /** Card time inside one approval (all APDUs the engine sent to the card). */
  readonly card: Summary;
  /** total − card, per approval = per forwarded APDU (one per PKA approval). */
  readonly overhead: Summary;
  readonly forwardedPerApproval: number;
  readonly cardApdusPerApproval: number;
  /** The same kind of SIGN sent directly to an authenticated card. */
  readonly directSign: Summary;
  /** Parts of the overhead, each measured on its own. */
  readonly parts: {
    /** Offer written → engine reported it verified (one-way WS + parse + chain validation). */
    readonly offerArrival: Summary;
    /** Raw `ws` loopback round trip of a decision-sized frame. */
    readonly wsRoundTrip: Summary;
    /** verifyOffer alone (chain validation to the anchor, key, expiry, script dry run). */
    readonly offerVerify: Summary;
    /** Firewall construction + inspection of one SIGN. */
    readonly firewall: Summary;
    /** One fsync'd audit append (the engine writes several per approval). */
    readonly auditAppend: Summary;
  };
};

const send = (ws: WebSocket, m: ServerMessage) => ws.send(unwrap(encodeServerMessage(m)));

async function wsRoundTrip(n: number): Promise<Summary> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (s) => s.on('message', (d) => s.send(d.toString())));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise<void>((r) => ws.once('open', () => r()));
  const frame = JSON.stringify({
    v: 1,
    type: 'decision',
    ceremonyId: 'cer-1',
    offerId: 'off-1',
    decision: { kind: 'approve', results: [{ rapdu: 'ab'.repeat(72) + '9000' }] },
  });
  const out: number[] = [];
  for (let i = 0; i < n + 50; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      ws.once('message', () => r());
      ws.send(frame);
    });
    if (i >= 50) out.push(performance.now() - t0);
  }
  ws.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return summarize(out);
}

/** Runs the relay benchmark with `n` measured approvals (after `warmup`). */
export async function benchRelay(n = 1000, warmup = 50): Promise<RelayResult> {
  const { ca, anchor } = benchPki();
  const cust = await benchCustodian(ca);
  const target = benchTarget(ca);
  const timed = timedCard(cust.card);
  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));

  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (p) => (p.has(PROTOCOL_NAME) ? PROTOCOL_NAME : false),
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let peer: WebSocket | undefined;
  let onDecision: ((t: number, offerId: string) => void) | undefined;
  wss.on('connection', (ws) => {
    peer = ws;
    ws.on('message', (data) => {
      const t = performance.now();
      const m = unwrap(parseClientMessage(data.toString()));
      if (m.type === 'hello') {
        send(ws, {
          v: 1,
          type: 'welcome',
          custodianId: 'cus-bench',
          serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          heartbeatSeconds: 60,
        });
      } else if (m.type === 'decision') onDecision?.(t, m.offerId);
    });
  });
  const client: CustodianClient = startCustodian({
    name: 'bench',
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
    auth: { kind: 'session', custodianId: 'cus-bench', credential: 'B'.repeat(43) },
    anchors: [anchor],
    keyId: cust.keyId,
    keyChr: cust.keyChr,
    openCard: timed.open,
    frames: [],
    dir,
  });
  await client.next(
    (e): e is typeof e => e.type === 'connection' && e.state.kind === 'authenticated',
    'session',
  );

  const total: number[] = [];
  const card: number[] = [];
  const arrival: number[] = [];
  const verify: number[] = [];
  let apdus = 0;
  let forwarded = 0;
  for (let i = 0; i < warmup + n; i++) {
    const offer = benchOffer(i, target, cust);
    timed.acc.ms = 0;
    timed.acc.apdus = 0;
    let arrived = 0;
    const decided = new Promise<number>((resolve) => {
      onDecision = (t, offerId) => offerId === offer.offerId && resolve(t);
    });
    const approved = new Promise<number>((resolve, reject) => {
      const off = client.engine.on((e) => {
        if (e.type === 'offer-rejected') reject(new Error(e.rejection.message));
        if (e.type !== 'offer-added' || e.offer.ceremonyId !== offer.ceremonyId) return;
        arrived = performance.now();
        off();
        void client.engine.approve(offer.ceremonyId, typedPin(BENCH_PIN).source).then((o) => {
          if (o.kind !== 'approved') reject(new Error(`approval ended with ${o.kind}`));
          else resolve(o.forwarded);
        });
      });
    });
    const t0 = performance.now();
    send(peer!, offer);
    const [t1, fwd] = await Promise.all([decided, approved]);
    // End the ceremony so the engine's offer book stays small, as a real server would.
    const progress = { authenticated: 1, approvedBy: ['bench'] };
    send(peer!, {
      v: 1,
      type: 'result',
      ceremonyId: offer.ceremonyId,
      offerId: offer.offerId,
      outcome: 'accepted',
      sw: 0x9000,
      progress,
    });
    send(peer!, {
      v: 1,
      type: 'update',
      ceremonyId: offer.ceremonyId,
      state: 'completed',
      progress,
    });
    await client.next(
      (e): e is typeof e => e.type === 'offer-removed' && e.ceremonyId === offer.ceremonyId,
      'end',
    );
    if (i < warmup) continue;
    total.push(t1 - t0);
    card.push(timed.acc.ms);
    arrival.push(arrived - t0);
    // verifyOffer alone, at the same moment (same machine load) as this approval.
    const probe = benchOffer(warmup + n + i, target, cust);
    const v0 = performance.now();
    const v = verifyOffer(probe, {
      anchors: [anchor],
      ownKey: { keyId: cust.keyId, chr: cust.keyChr },
      now: new Date(),
    });
    verify.push(performance.now() - v0);
    if (!v.ok) throw new Error(v.error.message);
    apdus = timed.acc.apdus;
    forwarded = fwd;
  }
  client.stop();
  await new Promise<void>((r) => wss.close(() => r()));

  // The direct card call: the same SIGN on the same kind of card, PIN verified once.
  const direct: number[] = [];
  const t = createInProcessTransport(cust.card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.verifyPin(asciiBytes(BENCH_PIN));
  for (let i = 0; i < warmup + n; i++) {
    const apdu = pkaSignApdu(cust.keyId, target.chr, crypto.getRandomValues(new Uint8Array(8)));
    const t0 = performance.now();
    const r = await t.transmit(apdu);
    const dt = performance.now() - t0;
    if (r[r.length - 2] !== 0x90) throw new Error('direct SIGN failed');
    if (i >= warmup) direct.push(dt);
  }
  await t.close('reset');

  const fw: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const challenge = crypto.getRandomValues(new Uint8Array(8));
    const apdu = pkaSignApdu(cust.keyId, target.chr, challenge);
    const t0 = performance.now();
    const d = createApduFirewall({
      ceremonyId: 'cer-x',
      targetDeviceChr: target.chr,
      challenge,
      keyId: cust.keyId,
    }).inspect(apdu);
    fw.push(performance.now() - t0);
    if (!d.allow) throw new Error('firewall refused the PKA SIGN');
  }
  const log = openAuditLog(join(dir, 'append-bench.jsonl'));
  const appends: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    log.append('apdu-forwarded', {
      ceremonyId: 'cer-x',
      offerId: 'off-x',
      index: 0,
      header: '80680173',
      rule: 'sign-pka-input',
      lc: 24,
      sw: '9000',
    });
    appends.push(performance.now() - t0);
  }
  log.close();
  rmSync(dir, { recursive: true, force: true });

  const overhead = total.map((x, i) => x - card[i]!);
  return {
    samples: n,
    total: summarize(total),
    card: summarize(card),
    overhead: summarize(overhead),
    forwardedPerApproval: forwarded,
    cardApdusPerApproval: apdus,
    directSign: summarize(direct),
    parts: {
      offerArrival: summarize(arrival),
      wsRoundTrip: await wsRoundTrip(n),
      offerVerify: summarize(verify),
      firewall: summarize(fw),
      auditAppend: summarize(appends),
    },
  };
}
