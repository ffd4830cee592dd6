/**
 * Issue 7 item 3: an approval names the exact offer the custodian was shown (offer id and
 * display digest). A server that swaps the offer of a ceremony (same ceremony id, new offer id,
 * another genuine target) while the custodian reads it or types the PIN never gets the
 * replacement signed unseen.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { refOf, type EngineEvent, type OfferView } from '../../../core/custodian/engine-types';
import { toHex } from '../../../shared/codec/bytes';
import type { OfferMessage } from '../../../shared/protocol/index';
import {
  custodianCard,
  fakeServer,
  makeOffer,
  PIN,
  startEngine,
  targetDevice,
  typedPin,
} from './harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const server = await fakeServer();
  const card = await custodianCard();
  const eng = startEngine({
    url: server.url,
    openCard: card.openCard,
    keyId: card.key.keyId,
    keyChr: card.key.chr,
  });
  cleanups.push(
    () => eng.engine.stop(),
    () => eng.audit.close(),
    () => server.close(),
  );
  await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
  const key = { keyId: card.key.keyId, chr: card.key.chr };
  return { server, card, key, ...eng };
}

type Setup = Awaited<ReturnType<typeof setup>>;

const added = (offerId: string) => (e: EngineEvent) =>
  e.type === 'offer-added' && e.offer.offerId === offerId;

async function show(t: Setup, offer: OfferMessage): Promise<OfferView> {
  t.server.broadcast(offer);
  const e = await t.next(added(offer.offerId));
  if (e.type !== 'offer-added') throw new Error('unreachable');
  return e.offer;
}

/** The replacement: same ceremony, new offer id, another genuine target and challenge. */
function swapOf(t: Setup, shown: OfferMessage, over: Partial<OfferMessage> = {}): OfferMessage {
  const other = makeOffer(targetDevice(203), t.key);
  return { ...other, ceremonyId: shown.ceremonyId, ...over };
}

/** How often the card was sent the SIGN of `offer` (its target's CHR ‖ its challenge). */
function signsFor(t: Setup, offer: OfferMessage): number {
  const want = offer.script.apdus[0]!.toLowerCase();
  return t.card.seen.filter((a) => toHex(a).toLowerCase() === want).length;
}

describe('7.3 an approval names the exact offer shown', () => {
  it('7.3 a replacement that arrived while the custodian read the offer is refused, not signed, and must be shown again', async () => {
    const t = await setup();
    const first = makeOffer(targetDevice(202), t.key);
    const shown = await show(t, first);
    const swapped = swapOf(t, first);
    const replacement = await show(t, swapped);
    expect(replacement.ceremonyId).toBe(shown.ceremonyId);
    expect(replacement.verified.deviceId).not.toBe(shown.verified.deviceId);

    const pin = typedPin(PIN);
    const r = await t.engine.approve(refOf(shown), pin.source);
    expect(r.kind).toBe('offer-changed');
    expect(r.kind === 'offer-changed' && r.message).toMatch(/replaced/);
    expect(r.kind === 'offer-changed' && r.current?.offerId).toBe(swapped.offerId);
    // Nothing touched the card, no PIN was asked, no decision left.
    expect(t.card.seen).toHaveLength(0);
    expect(pin.prompts).toHaveLength(0);
    expect(t.server.messages.filter((m) => m.type === 'decision')).toEqual([]);
    expect(readFileSync(t.auditPath, 'utf8')).toMatch(/"approval-refused"/);
    // The replacement is approvable once it was shown (its own reference).
    const ok = await t.engine.approve(refOf(replacement), typedPin(PIN).source);
    expect(ok.kind).toBe('approved');
    expect(signsFor(t, swapped)).toBe(1);
    expect(signsFor(t, first)).toBe(0);
  });

  it('7.3 the class: a forged digest, a guessed offer id, an ended offer and another ceremony are all refused', async () => {
    const t = await setup();
    const a = await show(t, makeOffer(targetDevice(202), t.key));
    const b = await show(t, makeOffer(targetDevice(203), t.key));
    const pin = typedPin(PIN);
    // Same offer id, digest of something else (the view of another offer).
    const forged = await t.engine.approve(
      { ...refOf(a), displayDigest: b.displayDigest },
      pin.source,
    );
    expect(forged.kind).toBe('offer-changed');
    expect(forged.kind === 'offer-changed' && forged.message).toMatch(/does not match/);
    // The right digest under the ceremony of another offer.
    const crossed = await t.engine.approve({ ...refOf(a), ceremonyId: b.ceremonyId }, pin.source);
    expect(crossed.kind).toBe('offer-changed');
    // An offer the server withdrew (ceremony cancelled): nothing pending.
    t.server.broadcast({
      v: 1,
      type: 'update',
      ceremonyId: b.ceremonyId,
      state: 'cancelled',
      progress: { authenticated: 0, approvedBy: [] },
    });
    await t.next((e) => e.type === 'offer-removed' && e.ceremonyId === b.ceremonyId);
    expect((await t.engine.approve(refOf(b), pin.source)).kind).toBe('refused');
    expect(t.card.seen).toHaveLength(0);
    expect(pin.prompts).toHaveLength(0);
    // The untouched offer still works with its own reference.
    expect((await t.engine.approve(refOf(a), pin.source)).kind).toBe('approved');
  });

  it('7.3 a replacement sent while the PIN is typed is refused; the card signs only the offer shown', async () => {
    const t = await setup();
    const first = makeOffer(targetDevice(202), t.key);
    const shown = await show(t, first);
    const swapped = swapOf(t, first);
    let swappedDuringPin = false;
    const source = {
      kind: 'typed' as const,
      read: async () => {
        t.server.broadcast(swapped);
        await t.next((e) => e.type === 'offer-rejected' && e.offer.offerId === swapped.offerId);
        swappedDuringPin = true;
        return new TextEncoder().encode(PIN);
      },
    };
    const r = await t.engine.approve(refOf(shown), source);
    expect(swappedDuringPin).toBe(true);
    expect(r.kind).toBe('approved');
    expect(signsFor(t, first)).toBe(1);
    expect(signsFor(t, swapped)).toBe(0);
    const decision = await t.server.next((m) => m.type === 'decision');
    expect(decision.type === 'decision' && decision.offerId).toBe(first.offerId);
    // The replacement was never made approvable.
    expect(t.engine.offers().some((o) => o.offerId === swapped.offerId)).toBe(false);
  });
});
