/**
 * The engine's memory of offers: open offers by ceremony, every offer id seen (to tell a resend
 * after reconnect from a replay with altered content) and the signature inputs already signed
 * (a new offer id reusing one is a replay). Bounded, so a hostile server cannot grow it forever.
 * @module
 */
import { canonicalJson } from '../../shared/audit/audit-chain';
import { toHex } from '../../shared/codec/bytes';
import type { DecisionMessage, OfferMessage, Progress } from '../../shared/protocol/index';
import type { TimerHandle } from '../net/timers';
import { isOpen, type CeremonyPhase } from './ceremony-state';
import type { VerifiedOffer } from './offer-verify';

/** One offer the engine tracks. */
export type OfferEntry = {
  phase: CeremonyPhase;
  progress: Progress;
  readonly verified: VerifiedOffer;
  expiry?: TimerHandle | undefined;
  /** The decision, once made (kept to resend after reconnect until the server confirms). */
  decision?: DecisionMessage | undefined;
};

/** How a new offer relates to what was seen before. */
export type Sighting =
  | { readonly kind: 'new' }
  | { readonly kind: 'resend'; readonly entry: OfferEntry | undefined }
  | { readonly kind: 'altered' }
  | { readonly kind: 'input-reused' };

/** Largest number of remembered offer ids / signed inputs. */
const MEMORY = 2048;

/**
 * Most open (pending or approving) offers kept for one target device id (docs/protocol.md §8).
 * A custodian cannot usefully weigh more than a handful per device; a flood is declined.
 */
export const MAX_PENDING_PER_TARGET = 16;

/**
 * Most open offers kept from the server (one engine = one server connection; docs/protocol.md
 * §8). Each open offer holds an expiry timer and a prompt, so this bounds both.
 */
export const MAX_PENDING_PER_SERVER = 64;

/** Content fingerprint of an offer (progress excluded: it legitimately changes between sends). */
export function offerContentKey(offer: OfferMessage): string {
  const { progress: _progress, ...rest } = offer;
  return canonicalJson(rest);
}

/** The offer book (see module doc). */
export class OfferBook {
  readonly #byCeremony = new Map<string, OfferEntry>();
  readonly #seen = new Map<string, { key: string; entry: OfferEntry | undefined }>();
  readonly #signed = new Set<string>();

  /** Classifies an incoming offer. */
  sight(offer: OfferMessage): Sighting {
    const prior = this.#seen.get(offer.offerId);
    if (prior) {
      return prior.key === offerContentKey(offer)
        ? { kind: 'resend', entry: prior.entry }
        : { kind: 'altered' };
    }
    if (this.#signed.has(signedInputKey(offer.target.deviceId, offer.challenge)))
      return { kind: 'input-reused' };
    return { kind: 'new' };
  }

  /** Remembers an offer id (with its entry when it was accepted). */
  remember(offer: OfferMessage, entry: OfferEntry | undefined): void {
    bounded(this.#seen).set(offer.offerId, { key: offerContentKey(offer), entry });
    if (entry) this.#byCeremony.set(offer.ceremonyId, entry);
  }

  /** Records that the card signed for this offer's target and challenge. */
  markSigned(offer: OfferMessage): void {
    if (this.#signed.size >= MEMORY) {
      const first = this.#signed.values().next();
      if (!first.done) this.#signed.delete(first.value);
    }
    this.#signed.add(signedInputKey(offer.target.deviceId, offer.challenge));
  }

  /** True when the card already signed this offer's target and challenge (a replay). */
  wasSigned(offer: OfferMessage): boolean {
    return this.#signed.has(signedInputKey(offer.target.deviceId, offer.challenge));
  }

  /** The tracked offer of a ceremony. */
  get(ceremonyId: string): OfferEntry | undefined {
    return this.#byCeremony.get(ceremonyId);
  }

  /**
   * Why a new offer may not be kept (the per-target or per-server bound of open offers is
   * reached), or undefined when it may. The open offer of the same ceremony does not count: the
   * new one replaces it.
   */
  overBound(offer: OfferMessage): string | undefined {
    let total = 0;
    let sameTarget = 0;
    for (const [ceremonyId, e] of this.#byCeremony) {
      if (ceremonyId === offer.ceremonyId || !isOpen(e.phase)) continue;
      total += 1;
      if (e.verified.offer.target.deviceId === offer.target.deviceId) sameTarget += 1;
    }
    if (sameTarget >= MAX_PENDING_PER_TARGET)
      return `too many pending offers for ${offer.target.deviceId} (at most ${MAX_PENDING_PER_TARGET})`;
    if (total >= MAX_PENDING_PER_SERVER)
      return `too many pending offers from this server (at most ${MAX_PENDING_PER_SERVER})`;
    return undefined;
  }

  /** Stops tracking a ceremony's offer (its offer id stays remembered). */
  drop(ceremonyId: string): void {
    this.#byCeremony.delete(ceremonyId);
  }

  /** All tracked offers. */
  entries(): OfferEntry[] {
    return [...this.#byCeremony.values()];
  }
}

function signedInputKey(deviceId: string, challengeHex: string): string {
  return `${toHex(new TextEncoder().encode(deviceId))}:${challengeHex}`;
}

function bounded<K, V>(map: Map<K, V>): Map<K, V> {
  while (map.size >= MEMORY) {
    const first = map.keys().next();
    if (first.done) break;
    map.delete(first.value);
  }
  return map;
}
