/**
 * The PKA signature input. This is the ONE place that builds it; the session code that signs,
 * the firewall that checks forwarded SIGN commands and the emulator that verifies all use it.
 * @module
 */
import { concatBytes, isPrintableAscii } from '../codec/bytes';

/** Longest CHR a CVC may carry (docs/card-reference.md §4.1: 8–16 characters). */
const MAX_CHR = 16;

/**
 * The one challenge length accepted: 8 bytes, what genuine devices answer to GET CHALLENGE
 * (docs/card-reference.md §6.6 step 2, §13.4). No field of a device certificate announces
 * another length, so there is no exception to make.
 *
 * Why exactly one length: the card hashes `CHR(T) ‖ challenge` with nothing between the two, and
 * device CHRs differ in length (8–16). If challenges of several lengths were accepted, the
 * bytes shown for one device could be the bytes of another — `UTEMU1234500001` with challenge
 * `"2" ‖ c` is the input of `UTEMU12345000012` with challenge `c` (issue 7 item 6). With a fixed
 * challenge length the input splits one way only: the CHR is everything but the last 8 bytes.
 */
export const PKA_CHALLENGE_BYTES = 8;

/**
 * Builds `CHR(target device certificate) ‖ challenge`, the message a custodian key signs with
 * ECDSA-SHA-256 to authenticate at a target (docs/card-reference.md §6.6 step 3). The order
 * (device id first) is only confirmed by the Pico implementation (§13.2); keeping it here means
 * one change if a genuine device differs.
 *
 * @param targetDeviceChr raw bytes of `5F20` of the first certificate in the target's EF 2F02
 * @param challenge the bytes the target returned for GET CHALLENGE: exactly
 *   {@link PKA_CHALLENGE_BYTES}
 * @throws Error when the CHR is not 1–16 printable ASCII bytes or the challenge is not exactly
 *   {@link PKA_CHALLENGE_BYTES} long
 */
export function buildPkaSignatureInput(
  targetDeviceChr: Uint8Array,
  challenge: Uint8Array,
): Uint8Array {
  if (
    targetDeviceChr.length === 0 ||
    targetDeviceChr.length > MAX_CHR ||
    !isPrintableAscii(targetDeviceChr)
  ) {
    throw new Error('target device CHR must be 1–16 printable ASCII bytes');
  }
  if (challenge.length !== PKA_CHALLENGE_BYTES) {
    throw new Error(
      `challenge must be exactly ${PKA_CHALLENGE_BYTES} bytes (got ${challenge.length})`,
    );
  }
  return concatBytes(targetDeviceChr, challenge);
}
