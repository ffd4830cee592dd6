import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_PENDING_PER_SERVER, MAX_PENDING_PER_TARGET } from '../../../core/custodian/offer-book';
import { SUSPICIOUS_REFUSALS } from '../../../core/custodian/rejection-guard';
import { systemTimers, type TimerHandle, type Timers } from '../../../core/net/timers';
import type { ClientMessage, DecisionMessage, OfferMessage } from '../../../shared/protocol/index';
import { custodianCard, fakeServer, makeOffer, startEngine, targetDevice } from './harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Real timers that count the live ones longer than a minute (offer expiries, not heartbeats). */
function countingTimers() {
  const live = new Set<TimerHandle>();
  const timers: Timers = {
    setTimeout(fn, ms) {
      const h = systemTimers.setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      if (ms > 60_000) live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      systemTimers.clearTimeout(h);
    },
    now: () => systemTimers.now(),
  };
  return { timers, live };
}

async function setup() {
  const server = await fakeServer();
  const card = await custodianCard();
  const counted = countingTimers();
  const eng = startEngine({
    url: server.url,
    openCard: card.openCard,
    keyId: card.key.keyId,
    keyChr: card.key.chr,
    timers: counted.timers,
  });
  cleanups.push(
    () => eng.engine.stop(),
    () => eng.audit.close(),
    () => server.close(),
  );
  await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
  return { server, card, ...eng, live: counted.live, key: card.key };
}

const decisionFor = (offerId: string) => (m: ClientMessage) =>
  m.type === 'decision' && m.offerId === offerId;

function declines(messages: readonly ClientMessage[]): DecisionMessage[] {
  return messages.filter(
    (m): m is DecisionMessage => m.type === 'decision' && m.decision.kind === 'decline',
  );
}

describe('issue 7 item 9: pending offers are bounded per target and per server', () => {
  it('7.9 5,000 offers for one target: at most 16 kept, no timers beyond, the rest refused (7.8 guard)', async () => {
    const t = await setup();
    const target = targetDevice();
    const offers: OfferMessage[] = [];
    for (let i = 0; i < 5000; i++)
      offers.push(makeOffer(target, { keyId: t.key.keyId, chr: t.key.chr }));
    for (const o of offers) t.server.broadcast(o);
    // Refusals past the bound count towards the refusal-flood guard (item 8): the engine
    // declines what it refused, then leaves the flooding server.
    await t.next((e) => e.type === 'server-suspicious');

    const kept = t.engine.offers();
    expect(kept).toHaveLength(MAX_PENDING_PER_TARGET);
    expect(kept.map((o) => o.offerId)).toEqual(
      offers.slice(0, MAX_PENDING_PER_TARGET).map((o) => o.offerId),
    );
    expect(t.live.size).toBeLessThanOrEqual(MAX_PENDING_PER_TARGET);
    const shown = t.events.filter((e) => e.type === 'offer-added');
    expect(shown).toHaveLength(MAX_PENDING_PER_TARGET);

    // The declines left before the disconnect; the fake server reads them asynchronously.
    await vi.waitFor(() => expect(declines(t.server.messages)).toHaveLength(SUSPICIOUS_REFUSALS), {
      timeout: 30_000,
    });
    const declined = declines(t.server.messages);
    expect(new Set(declined.map((d) => d.offerId))).toEqual(
      new Set(
        offers
          .slice(MAX_PENDING_PER_TARGET, MAX_PENDING_PER_TARGET + SUSPICIOUS_REFUSALS)
          .map((o) => o.offerId),
      ),
    );
    for (const d of declined) {
      expect(d.decision.kind === 'decline' && d.decision.reason).toBe('offer-invalid');
      expect(d.decision.kind === 'decline' && d.decision.detail).toMatch(/too many pending/);
    }
    await t.engine.stop();
    expect(t.live.size).toBe(0);
  }, 180_000);

  it('7.9 offers spread over many targets: at most 64 kept in total, 16 per target', async () => {
    const t = await setup();
    const targets = [202, 203, 204, 205, 206].map((s) => targetDevice(s));
    const offers: OfferMessage[] = [];
    for (const target of targets)
      for (let i = 0; i < 20; i++)
        offers.push(makeOffer(target, { keyId: t.key.keyId, chr: t.key.chr }));
    for (const o of offers) t.server.broadcast(o);
    // Each target's first 16 are kept until 64 in all; every other offer is declined.
    const expectedKept = targets
      .slice(0, MAX_PENDING_PER_SERVER / MAX_PENDING_PER_TARGET)
      .flatMap((_, ti) => offers.slice(ti * 20, ti * 20 + MAX_PENDING_PER_TARGET));
    const refused = offers.filter((o) => !expectedKept.includes(o));
    for (const o of refused) await t.server.next(decisionFor(o.offerId));

    const kept = t.engine.offers();
    expect(kept).toHaveLength(MAX_PENDING_PER_SERVER);
    expect(new Set(kept.map((o) => o.offerId))).toEqual(
      new Set(expectedKept.map((o) => o.offerId)),
    );
    const perTarget = new Map<string, number>();
    for (const o of kept) {
      const id = o.verified.offer.target.deviceId;
      perTarget.set(id, (perTarget.get(id) ?? 0) + 1);
    }
    for (const n of perTarget.values()) expect(n).toBeLessThanOrEqual(MAX_PENDING_PER_TARGET);
    expect(t.live.size).toBeLessThanOrEqual(MAX_PENDING_PER_SERVER);
    expect(declines(t.server.messages)).toHaveLength(refused.length);
  }, 120_000);

  it('7.9 at the bound a newer offer for a kept ceremony replaces it, and a closed one frees a place', async () => {
    const t = await setup();
    const target = targetDevice();
    const key = { keyId: t.key.keyId, chr: t.key.chr };
    const offers = Array.from({ length: MAX_PENDING_PER_TARGET }, () => makeOffer(target, key));
    for (const o of offers) t.server.broadcast(o);
    await t.next((e) => e.type === 'offer-added' && e.offer.offerId === offers.at(-1)!.offerId);
    // A replacement of the first ceremony is not a 17th offer.
    const replacement = makeOffer(target, key, { ceremonyId: offers[0]!.ceremonyId });
    t.server.broadcast(replacement);
    await t.next((e) => e.type === 'offer-added' && e.offer.offerId === replacement.offerId);
    // A new ceremony is over the bound until one closes.
    const over = makeOffer(target, key);
    t.server.broadcast(over);
    await t.server.next(decisionFor(over.offerId));
    expect(t.engine.offers().some((o) => o.offerId === over.offerId)).toBe(false);
    t.server.broadcast({
      v: 1,
      type: 'update',
      ceremonyId: offers[1]!.ceremonyId,
      state: 'cancelled',
      progress: { authenticated: 0, approvedBy: [] },
    });
    await t.next((e) => e.type === 'offer-removed' && e.ceremonyId === offers[1]!.ceremonyId);
    const after = makeOffer(target, key);
    t.server.broadcast(after);
    await t.next((e) => e.type === 'offer-added' && e.offer.offerId === after.offerId);
    expect(t.engine.offers()).toHaveLength(MAX_PENDING_PER_TARGET);
  }, 60_000);
});
