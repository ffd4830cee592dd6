/**
 * The emulated card's RSA: key generation and the SIGN algorithms of docs/card-reference.md
 * §8.3 — `20` raw (caller pads), `30` PKCS#1 v1.5 over caller data (a DigestInfo), `31`–`35`
 * PKCS#1 v1.5 with the card hashing, `40` PSS over a supplied hash, `41`–`45` PSS with the card
 * hashing. Arithmetic and padding are node:crypto's; only EMSA-PSS over an already computed
 * hash is written out (RFC 8017 §9.1.1), because node:crypto's PSS signing always hashes.
 * Refusals are {@link SwError}s with the card's status words.
 * @module
 */
import {
  constants,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import { bytesEqual } from '../../shared/codec/bytes';
import { SW } from '../../shared/card/status-words';
import {
  ID_TA_RSA_PSS_SHA_1,
  ID_TA_RSA_PSS_SHA_256,
  ID_TA_RSA_PSS_SHA_512,
  ID_TA_RSA_V1_5_SHA_1,
  ID_TA_RSA_V1_5_SHA_256,
  ID_TA_RSA_V1_5_SHA_512,
} from '../../shared/cvc/oids';
import { check, SwError } from './reply';
import type { RsaKeyMaterial } from './state';

/** Key sizes OpenSC's driver registers for the card ([OSC] `card-sc-hsm.c`, §15.6). */
export const RSA_KEY_SIZES: readonly number[] = [1024, 1536, 2048, 3072, 4096];

type Hash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
const HASH_LENGTH: Record<Hash, number> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};
const BY_LENGTH = new Map<number, Hash>(
  Object.entries(HASH_LENGTH).map(([h, n]) => [n, h as Hash] as const),
);

/** The RSA algorithm ids of §8.3: padding and the hash the card applies (none = supplied). */
const RSA_ALGORITHMS: ReadonlyMap<number, { pad: 'raw' | 'pkcs1' | 'pss'; hash?: Hash }> = new Map([
  [0x20, { pad: 'raw' }],
  [0x30, { pad: 'pkcs1' }],
  [0x31, { pad: 'pkcs1', hash: 'sha1' }],
  [0x32, { pad: 'pkcs1', hash: 'sha224' }],
  [0x33, { pad: 'pkcs1', hash: 'sha256' }],
  [0x34, { pad: 'pkcs1', hash: 'sha384' }],
  [0x35, { pad: 'pkcs1', hash: 'sha512' }],
  [0x40, { pad: 'pss' }],
  [0x41, { pad: 'pss', hash: 'sha1' }],
  [0x42, { pad: 'pss', hash: 'sha224' }],
  [0x43, { pad: 'pss', hash: 'sha256' }],
  [0x44, { pad: 'pss', hash: 'sha384' }],
  [0x45, { pad: 'pss', hash: 'sha512' }],
]);

/** True for an RSA signature algorithm id (§8.3). */
export function isRsaSignAlgorithm(algorithm: number): boolean {
  return RSA_ALGORITHMS.has(algorithm);
}

const minimal = (b: Uint8Array): Uint8Array => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.slice(i);
};

/** Modulus, exponent and size of a private key object. */
export function rsaMaterial(key: KeyObject): RsaKeyMaterial {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || jwk.n === undefined || jwk.e === undefined || jwk.d === undefined) {
    throw new Error('not an RSA private key');
  }
  const modulus = minimal(new Uint8Array(Buffer.from(jwk.n, 'base64url')));
  return {
    pkcs8: new Uint8Array(key.export({ format: 'der', type: 'pkcs8' })),
    modulus,
    exponent: minimal(new Uint8Array(Buffer.from(jwk.e, 'base64url'))),
    bits: modulus.length * 8,
  };
}

/**
 * Generates an RSA key of `bits` with public exponent `exponent` (an odd number ≥ 3 that fits 4
 * bytes). `6A80` for a size the card does not offer or a bad exponent.
 */
export function generateRsaKey(bits: number, exponent: number): RsaKeyMaterial {
  check(RSA_KEY_SIZES.includes(bits), SW.WRONG_DATA, `RSA key size ${bits} not supported`);
  check(
    Number.isSafeInteger(exponent) && exponent >= 3 && exponent % 2 === 1 && exponent <= 0xffffffff,
    SW.WRONG_DATA,
    'bad public exponent',
  );
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: exponent,
  });
  return rsaMaterial(privateKey);
}

/** Key material from PKCS#8 DER (the state file's form). @throws Error when not an RSA key */
export function rsaMaterialFromPkcs8(pkcs8: Uint8Array): RsaKeyMaterial {
  return rsaMaterial(createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }));
}

/** The private key object of stored material. */
export function rsaPrivateKey(m: RsaKeyMaterial): KeyObject {
  return createPrivateKey({ key: Buffer.from(m.pkcs8), format: 'der', type: 'pkcs8' });
}

/** DER prefixes of DigestInfo per hash (RFC 8017 §9.2, note 1). */
const DIGEST_INFO_PREFIX: Record<Hash, string> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** The hash in `40` input: a bare digest of a known length, or a DigestInfo of a known hash. */
function suppliedHash(data: Uint8Array): { hash: Hash; digest: Uint8Array } | undefined {
  const bare = BY_LENGTH.get(data.length);
  if (bare) return { hash: bare, digest: data };
  const hex = Buffer.from(data).toString('hex');
  for (const [hash, prefix] of Object.entries(DIGEST_INFO_PREFIX) as [Hash, string][]) {
    if (hex.length === prefix.length + 2 * HASH_LENGTH[hash] && hex.startsWith(prefix)) {
      return { hash, digest: data.subarray(prefix.length / 2) };
    }
  }
  return undefined;
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of an mHash, MGF1 with the same hash, salt = hLen. */
function emsaPss(mHash: Uint8Array, hash: Hash, modBits: number): Uint8Array {
  const hLen = HASH_LENGTH[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  check(emLen >= 2 * hLen + 2, SW.WRONG_DATA, 'key too short for PSS with this hash');
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[db.length - hLen - 1] = 0x01;
  salt.copy(db, db.length - hLen);
  const mask = Buffer.alloc(db.length);
  for (let c = 0, off = 0; off < mask.length; c++, off += hLen) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(c);
    createHash(hash).update(h).update(counter).digest().copy(mask, off);
  }
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.of(0xbc)]);
  // Left-pad to the modulus length for the raw private operation.
  return new Uint8Array(Buffer.concat([Buffer.alloc(modBits / 8 - em.length), em]));
}

/** Raw RSA private operation on exactly k bytes (input must be below n: else 6A80). */
function rawPrivate(key: KeyObject, block: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block));
  } catch {
    throw new SwError(SW.WRONG_DATA, 'input not below the modulus');
  }
}

/**
 * SIGN with an RSA key: the signature, exactly k = modulus bytes. `6A81` for an algorithm id
 * that is not RSA; `6A80` for data of the wrong length (raw: not k bytes; `30`: more than
 * k − 11; `40`: not a SHA-1/224/256/384/512 length).
 */
export function rsaSign(m: RsaKeyMaterial, algorithm: number, data: Uint8Array): Uint8Array {
  const algo = RSA_ALGORITHMS.get(algorithm);
  if (!algo) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'not an RSA algorithm');
  const key = rsaPrivateKey(m);
  const k = m.modulus.length;
  if (algo.pad === 'raw') {
    check(data.length === k, SW.WRONG_DATA, 'raw RSA takes exactly the modulus length');
    return rawPrivate(key, data);
  }
  if (algo.pad === 'pkcs1') {
    if (algo.hash) {
      return new Uint8Array(
        nodeSign(algo.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }),
      );
    }
    check(data.length >= 1 && data.length <= k - 11, SW.WRONG_DATA, 'DigestInfo too long');
    return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, data));
  }
  if (algo.hash) {
    const padding = constants.RSA_PKCS1_PSS_PADDING;
    const saltLength = HASH_LENGTH[algo.hash];
    return new Uint8Array(nodeSign(algo.hash, data, { key, padding, saltLength }));
  }
  // `40`: the hash is supplied, bare (its length names it) or as a DigestInfo, which is what
  // OpenSC sends (docs/card-reference.md §15.6).
  const supplied = suppliedHash(data);
  check(supplied !== undefined, SW.WRONG_DATA, 'PSS input is neither a hash nor a DigestInfo');
  return rawPrivate(key, emsaPss(supplied.digest, supplied.hash, m.bits));
}

/** The signature scheme each id-TA-RSA OID names (docs/card-reference.md §4.3). */
const OID_SCHEME: readonly (readonly [Uint8Array, Hash, 'pkcs1' | 'pss'])[] = [
  [ID_TA_RSA_V1_5_SHA_1, 'sha1', 'pkcs1'],
  [ID_TA_RSA_V1_5_SHA_256, 'sha256', 'pkcs1'],
  [ID_TA_RSA_V1_5_SHA_512, 'sha512', 'pkcs1'],
  [ID_TA_RSA_PSS_SHA_1, 'sha1', 'pss'],
  [ID_TA_RSA_PSS_SHA_256, 'sha256', 'pss'],
  [ID_TA_RSA_PSS_SHA_512, 'sha512', 'pss'],
];

/** The inner self-signature of an RSA key's request over the `7F4E` TLV, per its OID. */
export function rsaSelfSignature(m: RsaKeyMaterial, oid: Uint8Array, body: Uint8Array): Uint8Array {
  const scheme = OID_SCHEME.find(([o]) => bytesEqual(o, oid));
  if (!scheme) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'unknown RSA OID');
  const [, hash, pad] = scheme;
  const key = rsaPrivateKey(m);
  const options =
    pad === 'pss'
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] }
      : { key, padding: constants.RSA_PKCS1_PADDING };
  return new Uint8Array(nodeSign(hash, body, options));
}
