/**
 * Checks the card's signatures of `custodian-server sign` against the SHA-256 digests the CLI
 * computed itself while hashing (issue 12 §4: no second read of any file). A signature that
 * verifies over the digest is exactly what `openssl dgst -sha256 -verify key.pem` accepts for
 * the file that digest came from. Only the admin API's public key (PEM) is trusted; the
 * server's answer is checked, never believed.
 * @module
 */
import {
  constants,
  createPublicKey,
  publicDecrypt,
  verify as verifyOneShot,
  type KeyObject,
} from 'node:crypto';
import { concatBytes, fromHex } from '../../shared/codec/bytes';
import { ecPublicParts, OPENSSL_CURVES } from '../../shared/codec/spki';
import { curveByName } from '../../shared/crypto/curves';
import { derToPlain, verifyDigestPlain } from '../../shared/crypto/ecdsa';
import { messageOf } from '../../shared/error-message';
import type { FileDigest } from './file-digest';

/** True when `signature` is the key's signature of the SHA-256 `digest` (hex). Never throws. */
export type DigestVerifier = (digest: string, signature: Uint8Array) => boolean;

/** True when `signature` is the key's signature of the hashed file. Never rejects. */
export type SignatureCheck = (file: FileDigest, signature: Uint8Array) => Promise<boolean>;

/** DER DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1): what PKCS#1 v1.5 signs before the hash. */
const SHA256_DIGEST_INFO = fromHex('3031300d060960864801650304020105000420');

/**
 * A verifier for the key `publicKeyPem` of type `type` (absent: EC, as servers before RSA
 * support answer). Throws, before anything is signed, when the key cannot be read or is on a
 * curve the CLI cannot check.
 */
export function digestVerifier(key: {
  readonly id: number;
  readonly type?: 'ec' | 'rsa' | undefined;
  readonly publicKeyPem: string;
}): DigestVerifier {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(key.publicKeyPem);
  } catch (e) {
    throw new Error(`the public key of key ${key.id} is unreadable: ${messageOf(e)}`);
  }
  if (key.type === 'rsa' && publicKey.asymmetricKeyType === 'rsa') return rsaVerifier(publicKey);
  if (key.type !== 'rsa' && publicKey.asymmetricKeyType === 'ec')
    return ecVerifier(publicKey, key.id);
  throw new Error(`the public key of key ${key.id} is not the ${key.type ?? 'ec'} key it claims`);
}

function ecVerifier(publicKey: KeyObject, id: number): DigestVerifier {
  const named = publicKey.asymmetricKeyDetails?.namedCurve ?? '';
  const name = Object.hasOwn(OPENSSL_CURVES, named) ? OPENSSL_CURVES[named] : undefined;
  if (name === undefined)
    throw new Error(`key ${id} is on a curve the CLI cannot check (${named})`);
  const curve = curveByName(name);
  const { point } = ecPublicParts(publicKey.export({ type: 'spki', format: 'der' }));
  return (digest, der) => {
    try {
      const plain = derToPlain(der, curve.orderBytes);
      return plain.ok && verifyDigestPlain(curve, point, fromHex(digest), plain.value);
    } catch {
      return false;
    }
  };
}

function rsaVerifier(publicKey: KeyObject): DigestVerifier {
  return (digest, signature) => {
    try {
      const recovered = publicDecrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
        signature,
      );
      const expected = concatBytes(SHA256_DIGEST_INFO, fromHex(digest));
      return Buffer.compare(recovered, expected) === 0;
    } catch {
      // Not a signature of this key at all (wrong length, bad padding): it does not verify.
      return false;
    }
  };
}

/**
 * The check `custodian-server sign` makes: over the digest ({@link digestVerifier}), except for
 * an EC signature of a small file whose bytes the hashing read kept, which OpenSSL checks over
 * those bytes on Node's thread pool, off the event loop (the same result; JavaScript ECDSA for
 * thousands of small files would hold up the card's answers). No file is read again.
 */
export function signatureCheck(key: Parameters<typeof digestVerifier>[0]): SignatureCheck {
  const overDigest = digestVerifier(key);
  const publicKey = createPublicKey(key.publicKeyPem);
  const native = key.type !== 'rsa';
  return (file, der) => {
    const content = file.content;
    if (!native || content === undefined) return Promise.resolve(overDigest(file.sha256, der));
    return new Promise((resolve) => {
      try {
        verifyOneShot('sha256', content, publicKey, der, (e, ok) => resolve(e === null && ok));
      } catch {
        resolve(false);
      }
    });
  };
}
