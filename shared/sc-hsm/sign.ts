/**
 * SIGN `80 68` and the conversion of the card's DER ECDSA signature to plain r‖s
 * (docs/card-reference.md §6.6 steps 4–5, §8.1, §8.3).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { derToPlain } from '../crypto/ecdsa';
import { err, ok, type Result } from '../result';
import { ALGO, CLA, INS } from './constants';
import { scHsmError, type ScHsmError } from './errors';

/** ECDSA algorithm ids usable with {@link signCommand} (docs/card-reference.md §8.3). */
export type EcdsaAlgorithm =
  | typeof ALGO.ECDSA_PREHASHED
  | typeof ALGO.ECDSA_SHA1
  | typeof ALGO.ECDSA_SHA224
  | typeof ALGO.ECDSA_SHA256
  | typeof ALGO.ECDSA_SHA384
  | typeof ALGO.ECDSA_SHA512;

const ECDSA_ALGOS: ReadonlySet<number> = new Set([
  ALGO.ECDSA_PREHASHED,
  ALGO.ECDSA_SHA1,
  ALGO.ECDSA_SHA224,
  ALGO.ECDSA_SHA256,
  ALGO.ECDSA_SHA384,
  ALGO.ECDSA_SHA512,
]);

/** Largest message a card-hashed SIGN carries here (one extended APDU keeps headroom). */
const MAX_SIGN_INPUT = 4096;
/** Largest hash for `70` (SHA-512). */
const MAX_PREHASH = 64;

/**
 * `80 68 <keyId> <algo> Lc <data> 00`: ECDSA signature by key `keyId` (1–255). With `73` the card
 * hashes `data` with SHA-256; with `70` `data` is the hash (docs/card-reference.md §6.6 step 4). The card
 * answers DER.
 */
export function signCommand(
  keyId: number,
  algorithm: EcdsaAlgorithm,
  data: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  if (!Number.isInteger(keyId) || keyId < 1 || keyId > 255) {
    return err(scHsmError('invalid-argument', 'key id must be 1–255'));
  }
  if (!ECDSA_ALGOS.has(algorithm)) {
    return err(scHsmError('invalid-argument', `algorithm ${algorithm} is not an ECDSA algorithm`));
  }
  const max = algorithm === ALGO.ECDSA_PREHASHED ? MAX_PREHASH : MAX_SIGN_INPUT;
  if (data.length === 0 || data.length > max) {
    return err(scHsmError('invalid-argument', `data to sign must be 1–${max} bytes`));
  }
  return ok(command(CLA.PROPRIETARY, INS.SIGN, keyId, algorithm, data.slice(), 256));
}

/**
 * Converts the DER signature of SIGN to plain `r‖s`, each half `size` bytes (32 for 256-bit
 * curves), as EXTERNAL AUTHENTICATE expects (docs/card-reference.md §6.6 step 5).
 */
export function parseEcdsaSignature(der: Uint8Array, size: number): Result<Uint8Array, ScHsmError> {
  const r = derToPlain(der, size);
  if (!r.ok) return err(scHsmError('malformed-response', `SIGN answer: ${r.error.message}`));
  return ok(r.value);
}
