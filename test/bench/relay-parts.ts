/**
 * The pieces of the relay path measured on their own, for the report's breakdown: offer
 * verification with a cold and a warm chain cache, the firewall per APDU, one fsync'd audit
 * append, and a loopback WebSocket round trip of the real decision frame.
 * @module
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { openAuditLog } from '../../core/audit/audit-log';
import { createChainCache } from '../../core/custodian/chain-cache';
import { verifyOffer } from '../../core/custodian/offer-verify';
import type { TrustAnchor } from '../../shared/cvc/chain';
import { createApduFirewall } from '../../shared/policy/firewall';
import type { OfferMessage } from '../../shared/protocol/index';
import { summarize, type Summary } from './stats';

/** Loopback `ws` round trip of `frame` (echoed back), `n` samples after 50 warm-up ones. */
export async function wsRoundTrip(n: number, frame: string): Promise<Summary> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (s) => s.on('message', (d) => s.send(d.toString())));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise<void>((r) => ws.once('open', () => r()));
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

/** Offer verification as the engine runs it, once with an empty and once with a warm cache. */
export function verifyOnce(
  offer: OfferMessage,
  anchors: readonly TrustAnchor[],
  ownKey: { keyId: number; chr: string },
): { cold: number; cached: number } {
  const cache = createChainCache();
  const ctx = { anchors, ownKey, now: new Date(), chainCache: cache };
  const t0 = performance.now();
  const first = verifyOffer(offer, ctx);
  const t1 = performance.now();
  const second = verifyOffer(offer, ctx);
  const t2 = performance.now();
  if (!first.ok || !second.ok) throw new Error('bench offer refused');
  if (cache.stats().hits !== 1) throw new Error('the second verification missed the cache');
  return { cold: t1 - t0, cached: t2 - t1 };
}

/** Firewall build + inspection of a whole script, per APDU (`n` scripts). */
export function firewallPerApdu(
  n: number,
  make: () => {
    script: Uint8Array[];
    approval: Parameters<typeof createApduFirewall>[0];
  },
): Summary {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const { script, approval } = make();
    const t0 = performance.now();
    const fw = createApduFirewall(approval);
    let allowed = 0;
    for (const apdu of script) if (fw.inspect(apdu).allow) allowed += 1;
    out.push((performance.now() - t0) / script.length);
    if (allowed !== script.length) throw new Error('firewall refused a bench script step');
  }
  return summarize(out);
}

/** One fsync'd audit append of an `apdu-forwarded` entry in `dir` (`n` samples). */
export function auditAppend(dir: string, n: number): Summary {
  const log = openAuditLog(join(dir, `append-bench-${process.pid}.jsonl`));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
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
    out.push(performance.now() - t0);
  }
  log.close();
  return summarize(out);
}
