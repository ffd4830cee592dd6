/**
 * An offer as the custodian is shown it (`OfferView`), and the display digest an approval must
 * name together with the offer id (shared/policy/offer-display-digest.ts).
 * @module
 */
import { offerDisplayDigest } from '../../shared/policy/offer-display-digest';
import type { CeremonyPhase } from './ceremony-state';
import type { OfferView } from './engine-types';
import type { OfferEntry } from './offer-book';
import type { VerifiedOffer } from './offer-verify';

/** The display digest of a verified offer: what the custodian sees before approving. */
export function displayDigestOf(v: VerifiedOffer): string {
  const o = v.offer;
  return offerDisplayDigest({
    ceremonyId: o.ceremonyId,
    offerId: o.offerId,
    targetDeviceId: v.deviceId,
    targetLabel: o.target.label,
    challenge: o.challenge,
    keyId: o.key.keyId,
    keyChr: o.key.chr,
    purpose: o.purpose,
    requester: o.requester,
    anchorChr: v.anchor.chr,
    anchorTest: v.anchor.test,
    quorum: o.quorum,
    expiresAt: o.expiresAt,
  });
}

/** The offer as an event payload. */
export function viewOf(entry: OfferEntry): OfferView {
  return {
    ceremonyId: entry.verified.offer.ceremonyId,
    offerId: entry.verified.offer.offerId,
    phase: entry.phase,
    progress: entry.progress,
    verified: entry.verified,
    displayDigest: displayDigestOf(entry.verified),
  };
}

/** The current phase (a function, so TypeScript does not keep a narrowed phase across moves). */
export function phaseOf(entry: OfferEntry): CeremonyPhase {
  return entry.phase;
}
