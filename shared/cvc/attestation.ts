/**
 * Key attestation: proof that a key was generated inside a genuine SmartCard-HSM (docs/card-reference.md
 * §6.5, §7.2). Re-exported by `chain.ts`.
 * @module
 */
import { err, ok, type Result } from '../result';
import type { ChainVerdict } from './chain';
import type { AuthenticatedRequest } from './cvc';
import { keyOf, verifyCvc, verifyOuterSignature, type VerificationKey } from './verify';

/** A custodian key whose request was attested by a validated device. */
export type AttestedKey = {
  /** CHR of the key: its identifier at the target (docs/card-reference.md §6.2). */
  chr: string;
  chrBytes: Uint8Array;
  publicKey: VerificationKey;
  request: AuthenticatedRequest;
};

/** Why an attestation was refused. */
export type AttestationError = {
  code:
    | 'outer-car-mismatch'
    | 'bad-outer-signature'
    | 'malformed'
    | 'unsupported-key'
    | 'bad-inner-signature'
    | 'key-size';
  message: string;
};

/** Bits of the curve PKA accepts (docs/card-reference.md §6.2: "must not exceed 256 bits"). */
const PKA_KEY_BYTES = 32;

/**
 * Checks what a target must check before registering a custodian key (docs/card-reference.md §6.5 "what the
 * target is expected to verify"): the outer CAR is the validated device's CHR, the device key
 * made the outer signature over `7F21 ‖ 42`, the contained key (with the domain parameters in
 * the request itself) made the inner self-signature over `7F4E`, and the key is EC on a
 * 256-bit curve.
 */
export function verifyKeyAttestation(
  req: AuthenticatedRequest,
  verdict: Extract<ChainVerdict, { genuine: true }>,
): Result<AttestedKey, AttestationError> {
  // Both are validated printable ASCII, so string equality is byte equality.
  if (req.outerCar !== verdict.deviceId) {
    return err({
      code: 'outer-car-mismatch',
      message: `request is attested by ${req.outerCar}, but the device is ${verdict.deviceId}`,
    });
  }
  if (!verifyOuterSignature(req, verdict.deviceKey)) {
    return err({
      code: 'bad-outer-signature',
      message: `outer signature of request ${req.inner.body.chr} does not verify with device ${verdict.deviceId}`,
    });
  }
  const key = keyOf(req.inner);
  if (!key.ok) {
    return err({
      code: key.error.code === 'unsupported' ? 'unsupported-key' : 'malformed',
      message: `request ${req.inner.body.chr}: ${key.error.message}`,
    });
  }
  if (!verifyCvc(req.inner, key.value)) {
    return err({
      code: 'bad-inner-signature',
      message: `request ${req.inner.body.chr}: self-signature invalid`,
    });
  }
  if (key.value.curve.fieldBytes !== PKA_KEY_BYTES) {
    return err({
      code: 'key-size',
      message: `request ${req.inner.body.chr}: ${key.value.curve.name} is not a 256-bit curve (PKA needs 256 bit)`,
    });
  }
  return ok({
    chr: req.inner.body.chr,
    chrBytes: req.inner.body.chrBytes,
    publicKey: key.value,
    request: req,
  });
}
