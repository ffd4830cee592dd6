/**
 * The PKA signature input. This is the ONE place that builds it; the session code that signs,
 * the firewall that checks forwarded SIGN commands and the emulator that verifies all use it.
 * @module
 */
import { concatBytes, isPrintableAscii } from '../codec/bytes';

/** Longest CHR a CVC may carry (docs/card-reference.md §4.1: 8–16 characters). */
const MAX_CHR = 16;
/** Longest challenge accepted (docs/card-reference.md §13.4: 8 on genuine devices, Pico allows up to 256). */
const MAX_CHALLENGE = 256;

/**
 * Builds `CHR(target device certificate) ‖ challenge`, the message a custodian key signs with
 * ECDSA-SHA-256 to authenticate at a target (docs/card-reference.md §6.6 step 3). The order (device id first)
 * is only confirmed by the Pico implementation (docs/card-reference.md §13.2); keeping it here means one
 * change if a genuine device differs.
 *
 * @param targetDeviceChr raw bytes of `5F20` of the first certificate in the target's EF 2F02
 * @param challenge the bytes the target returned for GET CHALLENGE
 * @throws Error when the CHR is not 1–16 printable ASCII bytes or the challenge is empty/too long
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
  if (challenge.length === 0 || challenge.length > MAX_CHALLENGE) {
    throw new Error(`challenge must be 1–${MAX_CHALLENGE} bytes`);
  }
  return concatBytes(targetDeviceChr, challenge);
}
