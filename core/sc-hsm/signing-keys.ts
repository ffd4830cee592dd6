/**
 * General signing keys, e.g. a target's release key: generation restricted to ECDSA on a
 * supplied hash, signing a hash, and reading the public key object a key leaves in `CE<id>`
 * (docs/card-reference.md §2.2, §7, §8.1, §8.3).
 * @module
 */
import { ALGO, PREFIX } from '../../shared/sc-hsm/constants';
import { objectFid } from '../../shared/sc-hsm/files';
import { RSA_KEY_SIZES, type RsaKeySize } from '../../shared/sc-hsm/rsa';
import { signCommand } from '../../shared/sc-hsm/sign';
import { readEf, transmit, type CommandSender } from './card-io';
import { generateEcKey, KeyOperationError, type CustodianKeyOptions } from './keys';
import type { GeneratedKey } from './types';

/** Curves a signing key may use: the 256-bit ones every SmartCard-HSM supports (docs/card-reference.md §6.2). */
export const SIGNING_KEY_CURVES = ['brainpoolP256r1', 'secp256r1'] as const;

/** A curve of {@link SIGNING_KEY_CURVES}. */
export type SigningKeyCurve = (typeof SIGNING_KEY_CURVES)[number];

/** What a signing key is: EC on a {@link SigningKeyCurve} or RSA of a size of {@link RSA_KEY_SIZES}. */
export type SigningKeyType =
  | { readonly kind: 'ec'; readonly curve: SigningKeyCurve }
  | { readonly kind: 'rsa'; readonly bits: RsaKeySize };

/** The `--type` spellings of every {@link SigningKeyType}: `ec:<curve>`, `rsa:<bits>`. */
export const SIGNING_KEY_TYPES = [
  ...SIGNING_KEY_CURVES.map((c) => `ec:${c}` as const),
  ...RSA_KEY_SIZES.map((b) => `rsa:${b}` as const),
] as const;

/** Parses `ec:<curve>` / `rsa:<bits>`; undefined for anything not in {@link SIGNING_KEY_TYPES}. */
export function parseSigningKeyType(text: string): SigningKeyType | undefined {
  if (!(SIGNING_KEY_TYPES as readonly string[]).includes(text)) return undefined;
  const [kind, rest] = text.split(':') as [string, string];
  return kind === 'rsa'
    ? { kind: 'rsa', bits: Number(rest) as RsaKeySize }
    : { kind: 'ec', curve: rest as SigningKeyCurve };
}

/** The `--type` spelling of a {@link SigningKeyType}. */
export function formatSigningKeyType(t: SigningKeyType): string {
  return t.kind === 'rsa' ? `rsa:${t.bits}` : `ec:${t.curve}`;
}

/** A signing key may only sign hashes: ECDSA on a supplied hash (`70`, docs/card-reference.md §8.3). */
export const SIGNING_KEY_ALGORITHMS: readonly number[] = [ALGO.ECDSA_PREHASHED];

/** Options of {@link generateSigningKey}: PRKD label, optional CHR, curve. */
export type SigningKeyOptions = CustodianKeyOptions & { readonly curve: SigningKeyCurve };

/**
 * Generates a key that may only sign hashes (`70`), with a CHR unique on this device and a
 * PRKD label (docs/card-reference.md §7). Needs the user authenticated: by PIN or, on a PKA device, by the
 * quorum (docs/card-reference.md §6.7); the card answers `6982` otherwise.
 */
export async function generateSigningKey(
  channel: CommandSender,
  options: SigningKeyOptions,
): Promise<GeneratedKey> {
  if (!(SIGNING_KEY_CURVES as readonly string[]).includes(options.curve)) {
    throw new KeyOperationError(
      `curve ${String(options.curve)} is not offered for signing keys (use ${SIGNING_KEY_CURVES.join(' or ')})`,
    );
  }
  return generateEcKey(channel, { ...options, algorithms: SIGNING_KEY_ALGORITHMS });
}

/**
 * `80 68 <kid> 70 Lc <hash> 00`: ECDSA over a hash the caller computed (docs/card-reference.md §8.1, §8.3);
 * returns the card's DER signature. The caller verifies it against the key's public key.
 */
export async function signHash(
  channel: CommandSender,
  keyId: number,
  hash: Uint8Array,
): Promise<Uint8Array> {
  const cmd = signCommand(keyId, ALGO.ECDSA_PREHASHED, hash);
  if (!cmd.ok) throw new KeyOperationError(cmd.error.message);
  return (await transmit(channel, cmd.value, `SIGN with key ${keyId}`)).data;
}

/**
 * The content of `CE<id>`: the key's authenticated request from generation, or a certificate
 * (CVC or X.509) written there later (docs/card-reference.md §2.2, §7.2); undefined when absent.
 */
export async function readKeyObject(
  channel: CommandSender,
  keyId: number,
): Promise<Uint8Array | undefined> {
  if (!Number.isInteger(keyId) || keyId < 1 || keyId > 255) {
    throw new KeyOperationError('key id must be 1–255');
  }
  return readEf(channel, objectFid(PREFIX.EE_CERT, keyId), `READ BINARY CE of key ${keyId}`);
}
