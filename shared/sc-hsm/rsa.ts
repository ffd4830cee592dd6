/**
 * RSA on the SmartCard-HSM from the client side: the key-generation template (docs/card-reference.md
 * §7.1, §15.6), the SIGN commands over a supplied hash (`30` with a DigestInfo, `40` PSS) and the
 * DigestInfo encoding of PKCS#1 v1.5 (RFC 8017 §9.2, note 1: fixed DER prefixes per hash).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { concatBytes, fromHex } from '../codec/bytes';
import { encodeTlv } from '../codec/tlv';
import type { HashName } from '../crypto/ecdsa';
import { ID_TA_RSA_V1_5_SHA_256 } from '../cvc/oids';
import { err, ok, type Result } from '../result';
import { ALGO, CLA, INS } from './constants';
import { scHsmError, type ScHsmError } from './errors';

/** RSA key sizes a signing key may have (the card also offers 1024 and 1536, §15.6). */
export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;
/** One of {@link RSA_KEY_SIZES}. */
export type RsaKeySize = (typeof RSA_KEY_SIZES)[number];

/** The RSA signature schemes over a supplied hash. */
export type RsaScheme = 'pkcs1' | 'pss';

/** Digest length of each hash. */
export const HASH_LENGTH: Readonly<Record<HashName, number>> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

/** DER prefix of `DigestInfo { AlgorithmIdentifier { hash OID, NULL }, OCTET STRING }` (RFC 8017 §9.2). */
const DIGEST_INFO_PREFIX: Readonly<Record<HashName, string>> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** The PKCS#1 v1.5 DigestInfo of `digest` (which must have the hash's length). */
export function digestInfo(hash: HashName, digest: Uint8Array): Result<Uint8Array, ScHsmError> {
  if (!Object.hasOwn(HASH_LENGTH, hash)) {
    return err(scHsmError('invalid-argument', `unknown hash ${String(hash)}`));
  }
  if (digest.length !== HASH_LENGTH[hash]) {
    return err(scHsmError('invalid-argument', `a ${hash} digest is ${HASH_LENGTH[hash]} bytes`));
  }
  return ok(concatBytes(fromHex(DIGEST_INFO_PREFIX[hash]), digest));
}

/**
 * The public-key part of an RSA key-generation template: `7F49 { 06 id-TA-RSA-v1-5-SHA-256,
 * 82 exponent, 02 size }` (§7.1). The OID decides the request's self-signature scheme.
 */
export function rsaKeyTemplate(bits: number, exponent = 65537): Uint8Array {
  const e: number[] = [];
  for (let v = exponent; v > 0; v = Math.floor(v / 256)) e.unshift(v % 256);
  return encodeTlv(
    0x7f49,
    encodeTlv(0x06, ID_TA_RSA_V1_5_SHA_256),
    encodeTlv(0x82, Uint8Array.from(e)),
    encodeTlv(0x02, Uint8Array.of(bits >> 8, bits & 0xff)),
  );
}

const keyIdOk = (keyId: number) => Number.isInteger(keyId) && keyId >= 1 && keyId <= 255;

/**
 * `80 68 <keyId> 30|40 Lc <data> 00 00`: RSA over a supplied hash. `pkcs1` sends the DigestInfo of
 * `digest` (`30`); `pss` sends the digest itself (`40`, §15.6). Extended Le: the answer is the
 * modulus length (up to 512 bytes).
 */
export function rsaSignCommand(
  keyId: number,
  scheme: RsaScheme,
  hash: HashName,
  digest: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  if (!keyIdOk(keyId)) return err(scHsmError('invalid-argument', 'key id must be 1–255'));
  const di = digestInfo(hash, digest);
  if (!di.ok) return di;
  const [algo, data] = scheme === 'pss' ? [ALGO.RSA_PSS, digest] : [ALGO.RSA_PKCS1, di.value];
  return ok(command(CLA.PROPRIETARY, INS.SIGN, keyId, algo, data.slice(), 65536));
}

/**
 * `80 68 <keyId> 30 …` with caller data as it is (PKCS#11 CKM_RSA_PKCS: the caller builds the
 * DigestInfo). 1–501 bytes: at most k − 11 for the largest key (4096 bits); the card refuses more
 * than its key takes with `6A80`.
 */
export function rsaPkcs1SignCommand(
  keyId: number,
  data: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  if (!keyIdOk(keyId)) return err(scHsmError('invalid-argument', 'key id must be 1–255'));
  if (data.length === 0 || data.length > 501) {
    return err(scHsmError('invalid-argument', 'data for RSA PKCS#1 must be 1–501 bytes'));
  }
  return ok(command(CLA.PROPRIETARY, INS.SIGN, keyId, ALGO.RSA_PKCS1, data.slice(), 65536));
}
