/**
 * ECDSA verification in Node with OpenSSL through `node:crypto` (issue 12 §2) — the server's
 * check of each custodian signature, and the emulator's EXTERNAL AUTHENTICATE: the same
 * contract as `verifyPlain` of shared/crypto/ecdsa.ts (plain `r‖s`, uncompressed point, false on
 * any bad input, never throws, high-S accepted), at a fraction of the pure-JavaScript cost.
 * shared/ keeps @noble for the browser and the desktop app. Curves are named by their OID in
 * a SubjectPublicKeyInfo (RFC 5480 for NIST/SEC, RFC 5639 for brainpool); a curve OpenSSL
 * does not offer falls back to the shared verifier.
 * @module
 */
import { createPublicKey, getCurves, verify, type KeyObject } from 'node:crypto';
import { fromHex, toHex } from '../../shared/codec/bytes';
import { encodeTlv } from '../../shared/codec/tlv';
import type { Curve, CurveName } from '../../shared/crypto/curves';
import { verifyPlain, type HashName } from '../../shared/crypto/ecdsa';

/** Curve OIDs (DER content) and OpenSSL's names for them. */
const CURVES: Record<CurveName, { readonly oid: string; readonly openssl: string }> = {
  secp256r1: { oid: '2a8648ce3d030107', openssl: 'prime256v1' },
  secp384r1: { oid: '2b81040022', openssl: 'secp384r1' },
  secp521r1: { oid: '2b81040023', openssl: 'secp521r1' },
  secp256k1: { oid: '2b8104000a', openssl: 'secp256k1' },
  secp192r1: { oid: '2a8648ce3d030101', openssl: 'prime192v1' },
  secp192k1: { oid: '2b8104001f', openssl: 'secp192k1' },
  brainpoolP192r1: { oid: '2b2403030208010103', openssl: 'brainpoolP192r1' },
  brainpoolP192t1: { oid: '2b2403030208010104', openssl: 'brainpoolP192t1' },
  brainpoolP224r1: { oid: '2b2403030208010105', openssl: 'brainpoolP224r1' },
  brainpoolP224t1: { oid: '2b2403030208010106', openssl: 'brainpoolP224t1' },
  brainpoolP256r1: { oid: '2b2403030208010107', openssl: 'brainpoolP256r1' },
  brainpoolP256t1: { oid: '2b2403030208010108', openssl: 'brainpoolP256t1' },
  brainpoolP320r1: { oid: '2b2403030208010109', openssl: 'brainpoolP320r1' },
  brainpoolP320t1: { oid: '2b240303020801010a', openssl: 'brainpoolP320t1' },
  brainpoolP384r1: { oid: '2b240303020801010b', openssl: 'brainpoolP384r1' },
  brainpoolP384t1: { oid: '2b240303020801010c', openssl: 'brainpoolP384t1' },
  brainpoolP512r1: { oid: '2b240303020801010d', openssl: 'brainpoolP512r1' },
  brainpoolP512t1: { oid: '2b240303020801010e', openssl: 'brainpoolP512t1' },
};

const ID_EC_PUBLIC_KEY = fromHex('2a8648ce3d0201');
const AVAILABLE = new Set(getCurves());

/** Parsed keys by curve and point (registered custodian keys: a handful per server). */
const keys = new Map<string, KeyObject | null>();
const MAX_KEYS = 4096;

/** The OpenSSL key of an uncompressed point; null when OpenSSL rejects it (not on the curve). */
function keyObject(curve: Curve, point: Uint8Array): KeyObject | null {
  const id = `${curve.name}:${toHex(point)}`;
  const known = keys.get(id);
  if (known !== undefined) return known;
  let key: KeyObject | null = null;
  if (point.length === 1 + 2 * curve.fieldBytes && point[0] === 0x04) {
    const spki = encodeTlv(
      0x30,
      encodeTlv(
        0x30,
        encodeTlv(0x06, ID_EC_PUBLIC_KEY),
        encodeTlv(0x06, fromHex(CURVES[curve.name].oid)),
      ),
      encodeTlv(0x03, Uint8Array.of(0), point),
    );
    try {
      key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
  }
  if (keys.size >= MAX_KEYS) keys.clear();
  keys.set(id, key);
  return key;
}

/**
 * Hashes `message` with `hash` and verifies plain `r‖s` with an uncompressed public point, as
 * `verifyPlain` does. False on any bad input (wrong lengths, point not on the curve, r or s
 * out of range); never throws.
 */
export function verifyPlainNode(
  curve: Curve,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  hash: HashName,
): boolean {
  const known = Object.hasOwn(CURVES, curve.name) ? CURVES[curve.name] : undefined;
  if (!known || !AVAILABLE.has(known.openssl)) {
    return verifyPlain(curve, publicKey, message, signature, hash);
  }
  try {
    if (signature.length !== 2 * curve.orderBytes) return false;
    const key = keyObject(curve, publicKey);
    if (!key) return false;
    return verify(hash, message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
