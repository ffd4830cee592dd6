/**
 * RSA keys on the card (docs/card-reference.md §7.1, §8.3, §15.6): generating an RSA signing key
 * with its attested request and PRKD, and signing a supplied hash with PKCS#1 v1.5 (`30`, the
 * DigestInfo built here) or PSS (`40`). The key may only do those two: never raw RSA (`20`), which
 * would make it a decryption oracle.
 * @module
 */
import type { HashName } from '../../shared/crypto/ecdsa';
import { ALGO } from '../../shared/sc-hsm/constants';
import { generateRsaKeyCommand } from '../../shared/sc-hsm/keygen';
import {
  RSA_KEY_SIZES,
  rsaPkcs1SignCommand,
  rsaSignCommand,
  type RsaKeySize,
  type RsaScheme,
} from '../../shared/sc-hsm/rsa';
import { transmit, type CommandSender } from './card-io';
import { generateKeyObject, type CustodianKeyOptions } from './key-generation';
import { KeyOperationError } from './keys';
import type { GeneratedKey } from './types';

/** An RSA signing key signs supplied hashes only: PKCS#1 v1.5 DigestInfo (`30`) and PSS (`40`). */
export const RSA_SIGNING_KEY_ALGORITHMS: readonly number[] = [ALGO.RSA_PKCS1, ALGO.RSA_PSS];

/** Options of {@link generateRsaSigningKey}: PRKD label, optional CHR, size. */
export type RsaSigningKeyOptions = CustodianKeyOptions & { readonly bits: RsaKeySize };

/**
 * Generates an RSA key of `bits` (2048, 3072, 4096; exponent 65537) restricted to
 * {@link RSA_SIGNING_KEY_ALGORITHMS}, with a CHR unique on the device and a PRKD label; checks
 * the request's modulus has the size asked for. Needs the user authenticated (`6982` otherwise).
 */
export async function generateRsaSigningKey(
  channel: CommandSender,
  options: RsaSigningKeyOptions,
): Promise<GeneratedKey> {
  if (!(RSA_KEY_SIZES as readonly number[]).includes(options.bits)) {
    throw new KeyOperationError(
      `RSA key size ${String(options.bits)} is not offered for signing keys (${RSA_KEY_SIZES.join(', ')})`,
    );
  }
  return generateKeyObject(
    channel,
    { ...options, kind: 'rsa' },
    (keyId, chr) =>
      generateRsaKeyCommand({
        keyId,
        chr,
        bits: options.bits,
        algorithms: RSA_SIGNING_KEY_ALGORITHMS,
      }),
    (request) => {
      const { modulus, domain } = request.inner.body.publicKey;
      if (domain || !modulus || modulus[0] === 0) return undefined;
      return modulus.length * 8 === options.bits ? options.bits : undefined;
    },
  );
}

/**
 * Signs a supplied `digest` (of `hash`) with RSA key `keyId`: `pkcs1` = PKCS#1 v1.5 over its
 * DigestInfo (`30`), `pss` = RSA-PSS, MGF1 and salt length with the same hash (`40`). Returns
 * the signature (modulus length). The caller verifies it against the key's public key.
 */
export async function signRsaDigest(
  channel: CommandSender,
  keyId: number,
  scheme: RsaScheme,
  hash: HashName,
  digest: Uint8Array,
): Promise<Uint8Array> {
  const cmd = rsaSignCommand(keyId, scheme, hash, digest);
  if (!cmd.ok) throw new KeyOperationError(cmd.error.message);
  return (await transmit(channel, cmd.value, `SIGN (RSA ${scheme}) with key ${keyId}`)).data;
}

/**
 * PKCS#1 v1.5 over caller data as it is (`30`; PKCS#11 CKM_RSA_PKCS, where the caller already
 * built the DigestInfo). The card pads; more than modulus − 11 bytes is refused (`6A80`).
 */
export async function signRsaPkcs1(
  channel: CommandSender,
  keyId: number,
  data: Uint8Array,
): Promise<Uint8Array> {
  const cmd = rsaPkcs1SignCommand(keyId, data);
  if (!cmd.ok) throw new KeyOperationError(cmd.error.message);
  return (await transmit(channel, cmd.value, `SIGN (RSA PKCS#1) with key ${keyId}`)).data;
}
