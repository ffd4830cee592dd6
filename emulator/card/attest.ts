/**
 * Key attestation of a PKA registration (docs/card-reference.md §6.5 "What the target is expected to
 * verify"): outer signature by an imported device certificate (which chains DICA → trusted
 * root), inner self-signature, EC 256-bit key with ECDSA-SHA-256.
 * @module
 */
import { bytesEqual } from '../../shared/codec/bytes';
import { SW } from '../../shared/card/status-words';
import type { AuthenticatedRequest } from '../../shared/cvc/cvc';
import { ID_TA_ECDSA_SHA_256 } from '../../shared/cvc/oids';
import {
  keyOf,
  verifyCvc,
  verifyOuterSignature,
  type VerificationKey,
} from '../../shared/cvc/verify';
import type { CardContext } from './context';
import { check, SwError } from './reply';
import { DEVICE_DEPTH } from './cmd-trust';

/** PKA keys must be 256-bit EC (docs/card-reference.md §6.2: "signature must not exceed 256 bits"). */
const PKA_FIELD_BYTES = 32;

/**
 * Checks a registration request and returns its public key. `6A88` no device key selected
 * (MSE `81 B6`); `6985` attestation failures (selected key is not an imported device
 * certificate, outer CAR mismatch, bad outer or inner signature); `6A80` unusable key.
 */
export function attestRequest(ctx: CardContext, req: AuthenticatedRequest): VerificationKey {
  const device = ctx.session.verifier;
  if (!device) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'no device key selected');
  check(device.depth === DEVICE_DEPTH, SW.CONDITIONS_NOT_SATISFIED, 'not a device certificate');
  check(
    bytesEqual(new TextEncoder().encode(req.outerCar), device.chr),
    SW.CONDITIONS_NOT_SATISFIED,
    'outer CAR does not name the selected device',
  );
  check(verifyOuterSignature(req, device), SW.CONDITIONS_NOT_SATISFIED, 'bad outer signature');
  const pk = req.inner.body.publicKey;
  check(bytesEqual(pk.oid, ID_TA_ECDSA_SHA_256), SW.WRONG_DATA, 'key must be ECDSA-SHA-256');
  // The request carries full domain parameters (docs/card-reference.md §7.2); use them, not the device's.
  check(pk.domain !== undefined, SW.WRONG_DATA, 'request without domain parameters');
  const key = keyOf(req.inner);
  if (!key.ok) throw new SwError(SW.WRONG_DATA, key.error.message);
  check(key.value.curve.fieldBytes === PKA_FIELD_BYTES, SW.WRONG_DATA, 'key must be 256 bit');
  check(verifyCvc(req.inner, key.value), SW.CONDITIONS_NOT_SATISFIED, 'bad inner signature');
  return key.value;
}
