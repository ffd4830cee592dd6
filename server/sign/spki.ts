/**
 * SubjectPublicKeyInfo (RFC 5480) for EC public keys with a named curve, as PEM, so the
 * signatures the server writes verify with `openssl dgst -sha256 -verify key.pem`.
 * @module
 */
import { concatBytes } from '../../shared/codec/bytes';
import { encodeTlv } from '../../shared/codec/tlv';
import { oidFromString } from '../../shared/cvc/oids';
import type { CurveName } from '../../shared/crypto/curves';

/** id-ecPublicKey (RFC 5480 §2.1.1). */
const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/** Named-curve OIDs (RFC 5480 §2.1.1.1, SEC 2 v2 appendix A.2, RFC 5639 §4.1). */
const CURVE_OIDS: Record<CurveName, string> = {
  secp192r1: '1.2.840.10045.3.1.1',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  secp192k1: '1.3.132.0.31',
  secp256k1: '1.3.132.0.10',
  brainpoolP192r1: '1.3.36.3.3.2.8.1.1.3',
  brainpoolP192t1: '1.3.36.3.3.2.8.1.1.4',
  brainpoolP224r1: '1.3.36.3.3.2.8.1.1.5',
  brainpoolP224t1: '1.3.36.3.3.2.8.1.1.6',
  brainpoolP256r1: '1.3.36.3.3.2.8.1.1.7',
  brainpoolP256t1: '1.3.36.3.3.2.8.1.1.8',
  brainpoolP320r1: '1.3.36.3.3.2.8.1.1.9',
  brainpoolP320t1: '1.3.36.3.3.2.8.1.1.10',
  brainpoolP384r1: '1.3.36.3.3.2.8.1.1.11',
  brainpoolP384t1: '1.3.36.3.3.2.8.1.1.12',
  brainpoolP512r1: '1.3.36.3.3.2.8.1.1.13',
  brainpoolP512t1: '1.3.36.3.3.2.8.1.1.14',
};

/** DER SubjectPublicKeyInfo of an uncompressed EC point on a named curve. */
export function ecSpkiDer(curve: CurveName, point: Uint8Array): Uint8Array {
  if (point[0] !== 0x04) throw new Error('EC public point must be uncompressed (04 ‖ x ‖ y)');
  const algorithm = encodeTlv(
    0x30,
    encodeTlv(0x06, oidFromString(ID_EC_PUBLIC_KEY)),
    encodeTlv(0x06, oidFromString(CURVE_OIDS[curve])),
  );
  return encodeTlv(0x30, algorithm, encodeTlv(0x03, concatBytes(Uint8Array.of(0), point)));
}

/** PEM armour with 64-character lines. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** PEM `PUBLIC KEY` of an EC point on a named curve. */
export function ecPublicKeyPem(curve: CurveName, point: Uint8Array): string {
  return toPem('PUBLIC KEY', ecSpkiDer(curve, point));
}
