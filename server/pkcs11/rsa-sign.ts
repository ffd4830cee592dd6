/**
 * RSA signing for PKCS#11 clients with the card's algorithms (docs/card-reference.md §8.3):
 * PKCS#1 v1.5 with the card padding a DigestInfo (`30`) — the server builds the DigestInfo for
 * the hashing mechanisms — and PSS on a supplied hash (`40`, salt = hash length). The card's
 * signature is checked against the key's public key before it is returned.
 * @module
 */
import { constants, publicDecrypt, verify } from 'node:crypto';
import type { TargetService } from '../targets/target-service';
import { CKR, Pkcs11Refusal } from './ckr';
import type { KeyObjectInfo } from './key-objects';
import { hash, HASH_BYTES, pssParams, type HashName, type Mechanism } from './mechanisms';

/** DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<HashName, string> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** The DigestInfo of `digest`. */
export function digestInfo(h: HashName, digest: Uint8Array): Uint8Array {
  return Uint8Array.from([...Buffer.from(DIGEST_INFO[h], 'hex'), ...digest]);
}

/** Signs `data` with RSA key `key` for mechanism `m`; returns the signature and what was signed. */
export async function rsaSign(
  t: TargetService,
  key: KeyObjectInfo,
  m: Mechanism,
  data: Uint8Array,
  pss: { hashAlg: number; mgf: number; sLen: number } | undefined,
): Promise<{ signature: Uint8Array; digest: Uint8Array }> {
  const k = key.signatureBytes;
  if (m.padding === 'pkcs1') {
    const digest = m.hash ? hash(m.hash, data) : undefined;
    const input = m.hash && digest ? digestInfo(m.hash, digest) : data;
    if (input.length < 1 || input.length > k - 11) {
      throw new Pkcs11Refusal(CKR.DATA_LEN_RANGE, `CKM_RSA_PKCS takes 1–${k - 11} bytes`);
    }
    const h = m.hash;
    const signature = await t.spendSignature((card) =>
      h && digest
        ? card.signRsaDigest(key.ref, 'pkcs1', h, digest)
        : card.signRsaPkcs1(key.ref, input),
    );
    let recovered: Buffer | undefined;
    try {
      recovered = publicDecrypt(
        { key: key.publicKey, padding: constants.RSA_PKCS1_PADDING },
        signature,
      );
    } catch {
      recovered = undefined;
    }
    if (signature.length !== k || !recovered?.equals(input)) {
      throw new Pkcs11Refusal(
        CKR.DEVICE_ERROR,
        `the card's signature with key ${key.ref} does not verify`,
      );
    }
    return { signature, digest: input };
  }
  const p = pssParams(m, pss, data.length, k);
  if (p.saltLength !== HASH_BYTES[p.hash]) {
    // The card's PSS uses a salt as long as the hash (docs/card-reference.md §8.3).
    throw new Pkcs11Refusal(
      CKR.MECHANISM_PARAM_INVALID,
      `PSS salt must be ${HASH_BYTES[p.hash]} bytes`,
    );
  }
  const digest = m.hash ? hash(m.hash, data) : data;
  const signature = await t.spendSignature((card) =>
    card.signRsaDigest(key.ref, 'pss', p.hash, digest),
  );
  // node:crypto verifies PSS over the message only: checked for the hashing mechanisms.
  const ok =
    signature.length === k &&
    (!m.hash ||
      verify(
        m.hash,
        data,
        { key: key.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength },
        signature,
      ));
  if (!ok)
    throw new Pkcs11Refusal(
      CKR.DEVICE_ERROR,
      `the card's signature with key ${key.ref} does not verify`,
    );
  return { signature, digest };
}
