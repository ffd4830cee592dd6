/**
 * The signing mechanisms the module offers (docs/pkcs11.md "Mechanisms") and what the server
 * computes for each before the card signs: the hash for the hashing mechanisms (the module
 * hashes nothing), and for RSA the encoded message the card's algorithm expects.
 * Mechanism numbers: OASIS PKCS#11 v2.40 current mechanisms specification.
 * @module
 */
import { createHash } from 'node:crypto';
import { CKR, Pkcs11Refusal } from './ckr';

/** CKM_* values. */
export const CKM = {
  RSA_PKCS: 0x0001,
  RSA_PKCS_PSS: 0x000d,
  SHA256_RSA_PKCS: 0x0040,
  SHA384_RSA_PKCS: 0x0041,
  SHA512_RSA_PKCS: 0x0042,
  SHA256_RSA_PKCS_PSS: 0x0043,
  SHA384_RSA_PKCS_PSS: 0x0044,
  SHA512_RSA_PKCS_PSS: 0x0045,
  SHA_1: 0x0220,
  SHA224: 0x0255,
  SHA256: 0x0250,
  SHA384: 0x0260,
  SHA512: 0x0270,
  ECDSA: 0x1041,
  ECDSA_SHA256: 0x1044,
  ECDSA_SHA384: 0x1045,
  ECDSA_SHA512: 0x1046,
} as const;

/** CKG_MGF1_* values. */
export const CKG = { SHA1: 1, SHA256: 2, SHA384: 3, SHA512: 4, SHA224: 5 } as const;

/** A hash the server computes or recognises. */
export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** One mechanism: key kind, the hash the server applies (if any), and the padding. */
export type Mechanism = {
  readonly name: string;
  readonly kind: 'rsa' | 'ec';
  readonly hash: HashName | undefined;
  readonly padding: 'pkcs1' | 'pss' | 'ecdsa';
};

const MECHANISMS: ReadonlyMap<number, Mechanism> = new Map([
  [CKM.RSA_PKCS, { name: 'CKM_RSA_PKCS', kind: 'rsa', hash: undefined, padding: 'pkcs1' }],
  [
    CKM.SHA256_RSA_PKCS,
    { name: 'CKM_SHA256_RSA_PKCS', kind: 'rsa', hash: 'sha256', padding: 'pkcs1' },
  ],
  [
    CKM.SHA384_RSA_PKCS,
    { name: 'CKM_SHA384_RSA_PKCS', kind: 'rsa', hash: 'sha384', padding: 'pkcs1' },
  ],
  [
    CKM.SHA512_RSA_PKCS,
    { name: 'CKM_SHA512_RSA_PKCS', kind: 'rsa', hash: 'sha512', padding: 'pkcs1' },
  ],
  [CKM.RSA_PKCS_PSS, { name: 'CKM_RSA_PKCS_PSS', kind: 'rsa', hash: undefined, padding: 'pss' }],
  [
    CKM.SHA256_RSA_PKCS_PSS,
    { name: 'CKM_SHA256_RSA_PKCS_PSS', kind: 'rsa', hash: 'sha256', padding: 'pss' },
  ],
  [
    CKM.SHA384_RSA_PKCS_PSS,
    { name: 'CKM_SHA384_RSA_PKCS_PSS', kind: 'rsa', hash: 'sha384', padding: 'pss' },
  ],
  [
    CKM.SHA512_RSA_PKCS_PSS,
    { name: 'CKM_SHA512_RSA_PKCS_PSS', kind: 'rsa', hash: 'sha512', padding: 'pss' },
  ],
  [CKM.ECDSA, { name: 'CKM_ECDSA', kind: 'ec', hash: undefined, padding: 'ecdsa' }],
  [CKM.ECDSA_SHA256, { name: 'CKM_ECDSA_SHA256', kind: 'ec', hash: 'sha256', padding: 'ecdsa' }],
  [CKM.ECDSA_SHA384, { name: 'CKM_ECDSA_SHA384', kind: 'ec', hash: 'sha384', padding: 'ecdsa' }],
  [CKM.ECDSA_SHA512, { name: 'CKM_ECDSA_SHA512', kind: 'ec', hash: 'sha512', padding: 'ecdsa' }],
]);

/** The mechanism with number `type`, or a CKR_MECHANISM_INVALID refusal. */
export function mechanismOf(type: number): Mechanism {
  const m = MECHANISMS.get(type);
  if (!m)
    throw new Pkcs11Refusal(
      CKR.MECHANISM_INVALID,
      `mechanism 0x${type.toString(16)} is not offered`,
    );
  return m;
}

const HASH_OF_CKM: ReadonlyMap<number, HashName> = new Map([
  [CKM.SHA_1, 'sha1'],
  [CKM.SHA224, 'sha224'],
  [CKM.SHA256, 'sha256'],
  [CKM.SHA384, 'sha384'],
  [CKM.SHA512, 'sha512'],
]);

const MGF_OF_HASH: Record<HashName, number> = {
  sha1: CKG.SHA1,
  sha224: CKG.SHA224,
  sha256: CKG.SHA256,
  sha384: CKG.SHA384,
  sha512: CKG.SHA512,
};

/** Digest sizes in bytes. */
export const HASH_BYTES: Record<HashName, number> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

/** The hash of `data`. */
export function hash(name: HashName, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(name).update(data).digest());
}

/** Validated CK_RSA_PKCS_PSS_PARAMS: hash, MGF1 hash (must match) and salt length. */
export type PssParams = { readonly hash: HashName; readonly saltLength: number };

/**
 * Checks the PSS parameters against the mechanism and the data: the hash must be the
 * mechanism's (for the hashing ones) or fit the data length (for CKM_RSA_PKCS_PSS), MGF1 must
 * use the same hash, the salt must fit the modulus (RFC 8017 §9.1.1).
 */
export function pssParams(
  m: Mechanism,
  p: { hashAlg: number; mgf: number; sLen: number } | undefined,
  dataLength: number,
  modulusBytes: number,
): PssParams {
  const bad = (why: string) => new Pkcs11Refusal(CKR.MECHANISM_PARAM_INVALID, why);
  if (!p) throw bad(`${m.name} needs CK_RSA_PKCS_PSS_PARAMS`);
  const h = HASH_OF_CKM.get(p.hashAlg);
  if (!h) throw bad(`PSS hash 0x${p.hashAlg.toString(16)} is not supported`);
  if (m.hash !== undefined && h !== m.hash) throw bad(`${m.name} needs hashAlg ${m.hash}`);
  if (m.hash === undefined && dataLength !== HASH_BYTES[h])
    throw new Pkcs11Refusal(CKR.DATA_LEN_RANGE, `${m.name}: data must be a ${h} digest`);
  if (p.mgf !== MGF_OF_HASH[h]) throw bad('MGF1 must use the same hash as the message');
  if (p.sLen > modulusBytes - HASH_BYTES[h] - 2) throw bad('salt too long for the key');
  return { hash: h, saltLength: p.sLen };
}
