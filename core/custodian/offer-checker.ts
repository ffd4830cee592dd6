/**
 * Checks offers with the engine's anchors, own key and clock: the local clock corrected
 * towards the server's (bounded, docs/protocol.md §8), so the chain validity dates and the
 * offer expiry are judged the same way on arrival and right before the card.
 * @module
 */
import type { TrustAnchor } from '../../shared/cvc/chain';
import type { OfferMessage } from '../../shared/protocol/index';
import type { Timers } from '../net/timers';
import type { ChainCache } from './chain-cache';
import { verifyOffer, type OwnKey } from './offer-verify';

/** Largest server clock correction applied: the chain validity dates also depend on "now". */
export const MAX_CLOCK_OFFSET_MS = 5 * 60_000;

/** The offer checker of one engine. */
export type OfferChecker = {
  /**
   * Verifies an offer. Everything is evaluated on every call except the chain's signatures,
   * which the chain cache keeps per chain and anchor set.
   */
  check(offer: OfferMessage): ReturnType<typeof verifyOffer>;
  /** The time offers are checked against. */
  now(): Date;
  /** Takes the server's clock from a `welcome` (the correction is bounded). */
  syncClock(serverTime: string): void;
};

/** What the checker needs. */
export type OfferCheckerDeps = {
  readonly anchors: readonly TrustAnchor[];
  readonly ownKey: OwnKey;
  readonly chainCache: ChainCache;
  readonly timers: Timers;
};

/** Creates the checker (no clock correction until the first `welcome`). */
export function createOfferChecker(d: OfferCheckerDeps): OfferChecker {
  let offsetMs = 0;
  const now = () => new Date(d.timers.now() + offsetMs);
  return {
    now,
    check: (offer) =>
      verifyOffer(offer, {
        anchors: d.anchors,
        ownKey: d.ownKey,
        now: now(),
        chainCache: d.chainCache,
      }),
    syncClock(serverTime) {
      const offset = Date.parse(serverTime) - d.timers.now();
      offsetMs = Number.isFinite(offset)
        ? Math.max(-MAX_CLOCK_OFFSET_MS, Math.min(MAX_CLOCK_OFFSET_MS, offset))
        : 0;
    },
  };
}
