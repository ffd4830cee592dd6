/**
 * Reading an EC SubjectPublicKeyInfo (RFC 5480 §2): the named-curve OID and the public point.
 * Used where a public key arrives as SPKI (PEM from the admin API, a card's public key for
 * PKCS#11) and the point is needed to verify with shared/crypto/ecdsa.ts.
 * @module
 */
import type { CurveName } from '../crypto/curves';
import { decodeTlv, decodeTlvList, type Tlv } from './tlv';

const DER = { maxLength: 1 << 20 };

function der(input: Uint8Array): Tlv[] {
  const r = decodeTlvList(input, DER);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/**
 * EC SPKI → named-curve OID TLV (CKA_EC_PARAMS) and the point as stored (uncompressed
 * `04‖x‖y` for every key this project makes). Throws on anything else.
 */
export function ecPublicParts(spki: Uint8Array): { params: Uint8Array; point: Uint8Array } {
  const top = decodeTlv(spki, DER);
  if (!top.ok) throw new Error(top.error.message);
  const [alg, bits] = der(top.value.value);
  if (!alg || !bits || bits.tag !== 0x03 || bits.value[0] !== 0) throw new Error('bad EC SPKI');
  const algParts = der(alg.value);
  const curve = algParts[1];
  if (!curve || curve.tag !== 0x06) throw new Error('EC key without a named curve');
  return { params: curve.raw, point: bits.value.subarray(1) };
}

/** OpenSSL's names of the curves signing keys use (`KeyObject.asymmetricKeyDetails.namedCurve`) → ours. */
export const OPENSSL_CURVES: Record<string, CurveName> = {
  prime256v1: 'secp256r1',
  secp384r1: 'secp384r1',
  secp521r1: 'secp521r1',
  brainpoolP256r1: 'brainpoolP256r1',
  brainpoolP384r1: 'brainpoolP384r1',
  brainpoolP512r1: 'brainpoolP512r1',
};
