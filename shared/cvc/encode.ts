/**
 * Encoders for CVC public keys, bodies, signed certificates and authenticated requests, in the
 * tag order of the SmartCard-HSM profile (docs/card-reference.md §4.1) and with the signature inputs of
 * docs/card-reference.md §4.2. Used by the emulator (device chain, key generation) and by tests. Inputs are
 * program data, so invalid fields throw.
 * @module
 */
import { asciiBytes, concatBytes, isPrintableAscii } from '../codec/bytes';
import { encodeTlv } from '../codec/tlv';
import { bigintToBytes, type Curve } from '../crypto/curves';
import { signPlain, type HashName } from '../crypto/ecdsa';
import type { CvcPublicKey } from './cvc';
import { encodeCvcDate, type CvcDate } from './date';

/** Fields of a certificate body; see {@link CvcBody} for their meaning. */
export type CvcBodyFields = {
  car?: string;
  publicKey: CvcPublicKey;
  chr: string;
  chat?: { oid: Uint8Array; rights: Uint8Array };
  effective?: CvcDate;
  expiration?: CvcDate;
  extensions?: Uint8Array;
};

const byteLength = (v: bigint): number => Math.max(1, Math.ceil(v.toString(16).length / 2));

/** CAR/CHR bytes; throws unless 1–16 printable ASCII characters (docs/card-reference.md §4.1). */
function referenceBytes(ref: string, what: string): Uint8Array {
  const b = asciiBytes(ref);
  if (b.length < 1 || b.length > 16 || !isPrintableAscii(b)) {
    throw new Error(`${what} must be 1–16 printable ASCII characters`);
  }
  return b;
}

/**
 * Encodes a `7F49` public key with only the fields present, in the order `06, 81 p, 82 a,
 * 83 b, 84 G, 85 n, 86 point, 87 h` (EC) or `06, 81 modulus, 82 exponent, 02 size` (RSA).
 * p, a and b use the field length, n its own length, h its minimal length.
 */
export function encodePublicKey(pk: CvcPublicKey): Uint8Array {
  const parts: Uint8Array[] = [encodeTlv(0x06, pk.oid)];
  const d = pk.domain;
  if (d) {
    const fl = byteLength(d.p);
    parts.push(
      encodeTlv(0x81, bigintToBytes(d.p, fl)),
      encodeTlv(0x82, bigintToBytes(d.a, fl)),
      encodeTlv(0x83, bigintToBytes(d.b, fl)),
      encodeTlv(0x84, d.g),
      encodeTlv(0x85, bigintToBytes(d.n, byteLength(d.n))),
    );
  }
  if (pk.point) parts.push(encodeTlv(0x86, pk.point));
  if (d) parts.push(encodeTlv(0x87, bigintToBytes(d.h, byteLength(d.h))));
  if (!d && !pk.point) {
    if (pk.modulus) parts.push(encodeTlv(0x81, pk.modulus));
    if (pk.exponent) parts.push(encodeTlv(0x82, pk.exponent));
    if (pk.keySize !== undefined) {
      parts.push(encodeTlv(0x02, bigintToBytes(BigInt(pk.keySize), 2)));
    }
  }
  return encodeTlv(0x7f49, ...parts);
}

/**
 * Encodes the body `7F4E { 5F29 00, 42 CAR, 7F49, 5F20 CHR, 7F4C CHAT, 5F25, 5F24, 65 }`,
 * leaving out absent optional fields.
 */
export function encodeCvcBody(fields: CvcBodyFields): Uint8Array {
  const parts: Uint8Array[] = [encodeTlv(0x5f29, Uint8Array.of(0))];
  if (fields.car !== undefined) parts.push(encodeTlv(0x42, referenceBytes(fields.car, 'CAR')));
  parts.push(encodePublicKey(fields.publicKey));
  parts.push(encodeTlv(0x5f20, referenceBytes(fields.chr, 'CHR')));
  if (fields.chat) {
    parts.push(
      encodeTlv(0x7f4c, encodeTlv(0x06, fields.chat.oid), encodeTlv(0x53, fields.chat.rights)),
    );
  }
  if (fields.effective) parts.push(encodeTlv(0x5f25, encodeCvcDate(fields.effective)));
  if (fields.expiration) parts.push(encodeTlv(0x5f24, encodeCvcDate(fields.expiration)));
  if (fields.extensions) parts.push(encodeTlv(0x65, fields.extensions));
  return encodeTlv(0x7f4e, ...parts);
}

/**
 * Signs a complete `7F4E` TLV and returns the certificate `7F21 { body, 5F37 r‖s }`
 * (docs/card-reference.md §4.2: the signature covers the whole body TLV).
 */
export function signCertificate(
  bodyTlv: Uint8Array,
  curve: Curve,
  signerPrivateKey: Uint8Array,
  hash: HashName = 'sha256',
): Uint8Array {
  const signature = signPlain(curve, signerPrivateKey, bodyTlv, hash);
  return encodeTlv(0x7f21, bodyTlv, encodeTlv(0x5f37, signature));
}

/**
 * Wraps a self-signed request `7F21` into an authenticated request
 * `67 { 7F21, 42 outerCar, 5F37 }`; the outer signature covers `7F21 TLV ‖ 42 TLV`
 * (docs/card-reference.md §4.2) and is made with the device key (docs/card-reference.md §7.2).
 */
export function buildAuthenticatedRequest(
  innerCvc: Uint8Array,
  outerCar: string,
  curve: Curve,
  devicePrivateKey: Uint8Array,
  hash: HashName = 'sha256',
): Uint8Array {
  const carTlv = encodeTlv(0x42, referenceBytes(outerCar, 'outer CAR'));
  const signature = signPlain(curve, devicePrivateKey, concatBytes(innerCvc, carTlv), hash);
  return encodeTlv(0x67, innerCvc, carTlv, encodeTlv(0x5f37, signature));
}
