/**
 * The digest of an offer as the custodian was shown it. An approval names the offer id *and*
 * this digest, end to end (CLI, IPC, desktop backend, engine), so an offer the server swapped
 * while the custodian read it or typed the PIN (same ceremony, new offer id, another target)
 * can never be signed unseen: the engine refuses an approval whose offer id or digest is not
 * the pending offer's (docs/protocol.md §3.4). Defined once here so every layer computes the
 * same value from the same fields.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../codec/bytes';

/** What the custodian sees before approving (the device id is the verified chain's CHR). */
export type OfferDisplay = {
  readonly ceremonyId: string;
  readonly offerId: string;
  /** CHR of the target's device certificate, from the validated chain. */
  readonly targetDeviceId: string;
  readonly targetLabel: string;
  /** Challenge in hex (case is normalized). */
  readonly challenge: string;
  readonly keyId: number;
  readonly keyChr: string;
  readonly purpose: string;
  readonly requester: string;
  /** CHR of the trust anchor the chain leads to, and whether it is a TEST anchor. */
  readonly anchorChr: string;
  readonly anchorTest: boolean;
  readonly quorum: { readonly n: number; readonly m: number };
  readonly expiresAt: string;
};

/** Domain separation: this hash is never confused with any other hash of the project. */
const DOMAIN = 'custodian/offer-display/v1';

/** A display digest: 64 lower-case hex digits. */
export const OFFER_DISPLAY_DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/**
 * SHA-256 over an unambiguous encoding of {@link OfferDisplay}: a JSON array in fixed order
 * (JSON string escaping makes field boundaries unambiguous), prefixed by the domain.
 */
export function offerDisplayDigest(d: OfferDisplay): string {
  const fields = [
    DOMAIN,
    d.ceremonyId,
    d.offerId,
    d.targetDeviceId,
    d.targetLabel,
    d.challenge.toLowerCase(),
    d.keyId,
    d.keyChr,
    d.purpose,
    d.requester,
    d.anchorChr,
    d.anchorTest,
    d.quorum.n,
    d.quorum.m,
    d.expiresAt,
  ];
  return toHex(sha256(new TextEncoder().encode(JSON.stringify(fields)))).toLowerCase();
}
