/**
 * The lifecycle of the offers the engine tracks: the phase machine (ceremony-state.ts) applied
 * to an entry of the offer book, each open offer's expiry timer, and the events that tell the
 * front ends about it.
 * @module
 */
import type { Timers } from '../net/timers';
import { isOpen, transition, type CeremonyEvent } from './ceremony-state';
import type { Emit } from './engine-ports';
import type { OfferBook, OfferEntry } from './offer-book';
import type { VerifiedOffer } from './offer-verify';
import { phaseOf, viewOf } from './offer-view';

/** The tracker of one engine. */
export type OfferTracker = {
  /** Applies a phase event; false when the machine does not allow it. */
  move(entry: OfferEntry, event: CeremonyEvent): boolean;
  /** Tracks a verified offer as pending (replacing the ceremony's pending one) until `expiresIn`. */
  add(verified: VerifiedOffer, expiresInMs: number): OfferEntry;
  /** Reports the entry's current state: updated while open, removed once it ended or expired. */
  report(entry: OfferEntry): void;
  /** Stops every expiry timer (engine stop). */
  stop(): void;
};

/** Creates the tracker over `book`. */
export function createOfferTracker(book: OfferBook, timers: Timers, emit: Emit): OfferTracker {
  const move = (entry: OfferEntry, event: CeremonyEvent): boolean => {
    const next = transition(entry.phase, event);
    if (!next.ok) return false;
    entry.phase = next.value;
    if (!isOpen(entry.phase) && entry.expiry !== undefined) {
      timers.clearTimeout(entry.expiry);
      entry.expiry = undefined;
    }
    return true;
  };
  return {
    move,
    add(verified, expiresInMs) {
      const offer = verified.offer;
      const current = book.get(offer.ceremonyId);
      if (current && current.phase === 'pending' && move(current, 'end')) {
        emit({
          type: 'offer-removed',
          ceremonyId: offer.ceremonyId,
          offerId: current.verified.offer.offerId,
          reason: 'replaced by a newer offer',
        });
      }
      const entry: OfferEntry = { phase: 'pending', progress: offer.progress, verified };
      entry.expiry = timers.setTimeout(
        () => {
          if (move(entry, 'expire')) {
            emit({
              type: 'offer-removed',
              ceremonyId: offer.ceremonyId,
              offerId: offer.offerId,
              reason: 'expired',
            });
          }
        },
        Math.max(0, expiresInMs),
      );
      book.remember(offer, entry);
      emit({ type: 'offer-added', offer: viewOf(entry) });
      return entry;
    },
    report(entry) {
      const phase = phaseOf(entry);
      const { ceremonyId, offerId } = entry.verified.offer;
      if (phase === 'expired' || phase === 'ended')
        emit({ type: 'offer-removed', ceremonyId, offerId, reason: phase });
      else emit({ type: 'offer-updated', offer: viewOf(entry) });
    },
    stop() {
      for (const e of book.entries()) if (e.expiry !== undefined) timers.clearTimeout(e.expiry);
    },
  };
}
