/**
 * ECDSA with the signature encodings the SmartCard-HSM uses: CVCs and EXTERNAL AUTHENTICATE
 * carry plain `r‖s` (docs/card-reference.md §4.1 `5F37`, §6.6 step 5), the card's SIGN command returns DER
 * (docs/card-reference.md §6.6 step 4). Verification never throws: any malformed input is simply invalid.
 * @module
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../codec/bytes';
import { decodeTlv, decodeTlvList, encodeTlv } from '../codec/tlv';
import { err, ok, type Result } from '../result';
import { ecdsaImpl, isValidPublicPoint, type Curve } from './curves';

/** Hash functions named by the id-TA-ECDSA-SHA-* OIDs (docs/card-reference.md §4.3). */
export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

const HASHES: Record<HashName, (data: Uint8Array) => Uint8Array> = {
  sha1,
  sha224,
  sha256,
  sha384,
  sha512,
};

/** The digest of `data` with the named hash. */
export function hashBytes(name: HashName, data: Uint8Array): Uint8Array {
  // hasOwn: a name like "toString" must not reach Object.prototype.
  if (!Object.hasOwn(HASHES, name)) throw new Error(`unknown hash ${String(name)}`);
  return HASHES[name](data);
}

/**
 * Signs a precomputed digest; returns plain `r‖s`, each `orderBytes` long. A digest longer than
 * the order is truncated to its leftmost bits as ECDSA prescribes. Nonces are RFC 6979 hedged
 * with fresh randomness.
 * @throws Error on an invalid private key or an empty digest
 */
export function signDigestPlain(
  curve: Curve,
  privateKey: Uint8Array,
  digest: Uint8Array,
): Uint8Array {
  if (digest.length === 0) throw new Error('empty digest');
  return ecdsaImpl(curve).sign(digest, privateKey, {
    prehash: false,
    format: 'compact',
    extraEntropy: true,
  });
}

/**
 * Hashes `message` with `hash` and signs it; returns plain `r‖s`.
 * @throws Error on an invalid private key
 */
export function signPlain(
  curve: Curve,
  privateKey: Uint8Array,
  message: Uint8Array,
  hash: HashName,
): Uint8Array {
  return signDigestPlain(curve, privateKey, hashBytes(hash, message));
}

/**
 * Verifies plain `r‖s` over a digest with an uncompressed public point. False on any bad input
 * (wrong lengths, point not on the curve, r or s out of range); never throws. High-S signatures
 * are accepted: cards do not normalise s.
 */
export function verifyDigestPlain(
  curve: Curve,
  publicKey: Uint8Array,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (digest.length === 0 || signature.length !== 2 * curve.orderBytes) return false;
    if (!isValidPublicPoint(curve, publicKey)) return false;
    return ecdsaImpl(curve).verify(signature, digest, publicKey, {
      prehash: false,
      lowS: false,
      format: 'compact',
    });
  } catch {
    return false;
  }
}

/** Hashes `message` with `hash` and verifies plain `r‖s`. Never throws. */
export function verifyPlain(
  curve: Curve,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  hash: HashName,
): boolean {
  try {
    return verifyDigestPlain(curve, publicKey, hashBytes(hash, message), signature);
  } catch {
    return false;
  }
}

/** Why a DER signature was rejected. */
export type DerError = { code: 'malformed-der'; message: string };

const derError = (message: string): Result<never, DerError> =>
  err({ code: 'malformed-der', message });

/** The magnitude bytes of a strict DER INTEGER value that must be positive. */
function derPositiveInteger(value: Uint8Array, what: string): Result<Uint8Array, DerError> {
  if (value.length === 0) return derError(`${what}: empty INTEGER`);
  if ((value[0]! & 0x80) !== 0) return derError(`${what}: negative INTEGER`);
  if (value[0] === 0 && value.length > 1 && (value[1]! & 0x80) === 0) {
    return derError(`${what}: INTEGER has a superfluous leading zero`);
  }
  const mag = value[0] === 0 ? value.subarray(1) : value;
  if (mag.length === 0 || mag.every((b) => b === 0)) return derError(`${what}: zero`);
  return ok(mag);
}

/**
 * Converts a DER `SEQUENCE { INTEGER r, INTEGER s }` (as returned by the card's SIGN, docs/card-reference.md
 * §6.6 step 4) to plain `r‖s`, each left-padded with zeros to `size` bytes (step 5). Strict DER:
 * minimal lengths, minimal positive non-zero integers, no trailing bytes.
 */
export function derToPlain(der: Uint8Array, size: number): Result<Uint8Array, DerError> {
  if (!Number.isSafeInteger(size) || size <= 0 || size > 1024) return derError('invalid size');
  const seq = decodeTlv(der);
  if (!seq.ok) return derError(`signature: ${seq.error.message}`);
  if (seq.value.tag !== 0x30) return derError('signature is not a SEQUENCE');
  const items = decodeTlvList(seq.value.value);
  if (!items.ok) return derError(`signature: ${items.error.message}`);
  if (items.value.length !== 2) return derError('SEQUENCE must hold exactly two INTEGERs');
  const out = new Uint8Array(2 * size);
  for (const [i, name] of [
    [0, 'r'],
    [1, 's'],
  ] as const) {
    const item = items.value[i]!;
    if (item.tag !== 0x02) return derError(`${name} is not an INTEGER`);
    const mag = derPositiveInteger(item.value, name);
    if (!mag.ok) return mag;
    if (mag.value.length > size) return derError(`${name} longer than ${size} bytes`);
    out.set(mag.value, i * size + size - mag.value.length);
  }
  return ok(out);
}

/** Minimal DER INTEGER of an unsigned big-endian magnitude. */
function derInteger(mag: Uint8Array): Uint8Array {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  const trimmed = mag.subarray(i);
  const value = (trimmed[0]! & 0x80) !== 0 ? concatBytes(Uint8Array.of(0), trimmed) : trimmed;
  return encodeTlv(0x02, value);
}

/**
 * Converts plain `r‖s` (two equal halves) to DER `SEQUENCE { INTEGER r, INTEGER s }`.
 * @throws Error when the input is empty or of odd length
 */
export function plainToDer(plain: Uint8Array): Uint8Array {
  if (plain.length === 0 || plain.length % 2 !== 0) {
    throw new Error('plain signature must be two halves of equal length');
  }
  const half = plain.length / 2;
  return encodeTlv(0x30, derInteger(plain.subarray(0, half)), derInteger(plain.subarray(half)));
}
