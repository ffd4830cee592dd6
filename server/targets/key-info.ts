/**
 * Finding a signing key on the target by id or label and exporting its public key, from the
 * public objects the card keeps next to each key: PRKD `C4xx` (label) and `CExx` (the
 * authenticated request of key generation or a certificate written later), docs/card-reference.md §2.2, §7.2.
 * @module
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { parseAuthenticatedRequest, parseCvc, type CvcPublicKey } from '../../shared/cvc/cvc';
import { curveByDomain, isValidPublicPoint } from '../../shared/crypto/curves';
import { ecPublicKeyPem } from '../sign/spki';
import { TargetError } from './target-error';
import { messageOf } from '../../shared/error-message';

/** A key the target can sign with. */
export type SigningKey = {
  readonly id: number;
  /** EC (ECDSA over a hash, `70`) or RSA (PKCS#1 v1.5 / PSS over a hash, `30`/`40`). */
  readonly type: 'ec' | 'rsa';
  readonly label: string | undefined;
  /** CHR of the key's request/certificate, when it has one. */
  readonly chr: string | undefined;
  /** SPKI PEM of the public key. */
  readonly publicKeyPem: string;
};

/** A key as listed (public key may be unknown; type, curve and size when `CE<id>` shows them). */
export type KeyListing = {
  readonly id: number;
  readonly label: string | undefined;
  readonly type?: 'ec' | 'rsa';
  readonly curve?: string;
  readonly size?: number;
};

/** Lists the keys with their labels (PRKD `C4xx`, docs/card-reference.md §2.3), types and sizes. */
export async function listKeys(card: SmartCardHsm): Promise<KeyListing[]> {
  return (await card.listKeys()).map((k) => ({
    id: k.id,
    label: k.label,
    ...(k.type === undefined ? {} : { type: k.type }),
    ...(k.curve === undefined ? {} : { curve: k.curve }),
    ...(k.size === undefined ? {} : { size: k.size }),
  }));
}

/** SPKI PEM of a CVC public key: EC on a supported named curve, or RSA (docs/card-reference.md §4.1). */
function pemFromCvcKey(pk: CvcPublicKey, id: number): string {
  if (pk.modulus && pk.exponent) {
    try {
      const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
      return createPublicKey({
        key: { kty: 'RSA', n: b64(pk.modulus), e: b64(pk.exponent) },
        format: 'jwk',
      })
        .export({ type: 'spki', format: 'pem' })
        .toString();
    } catch (e) {
      throw new TargetError('malformed', `key ${id}: bad RSA public key (${messageOf(e)})`);
    }
  }
  const curve = pk.domain ? curveByDomain(pk.domain) : undefined;
  if (!curve || !pk.point || !isValidPublicPoint(curve, pk.point)) {
    throw new TargetError('invalid', `key ${id}: not an EC key on a supported named curve`);
  }
  return ecPublicKeyPem(curve.name, pk.point);
}

/** The public key of key `id` from EF `CE<id>`. */
async function publicKeyOf(card: SmartCardHsm, id: number): Promise<PublicKeyInfo> {
  const data = await card.readKeyObject(id);
  return publicKeyFrom(data, id);
}

/** A key's public key as SPKI PEM, its type, and the CHR when its object has one. */
export type PublicKeyInfo = { pem: string; type: 'ec' | 'rsa'; chr?: string };

const typeOf = (pk: CvcPublicKey): 'ec' | 'rsa' => (pk.modulus ? 'rsa' : 'ec');

/**
 * The public key (SPKI PEM) and CHR in the content of `CE<id>`: an authenticated request
 * `67`, a CVC `7F21` or an X.509 certificate (docs/card-reference.md §2.2, §7.2).
 */
export function publicKeyFrom(data: Uint8Array | undefined, id: number): PublicKeyInfo {
  if (!data || data.length === 0) {
    throw new TargetError('invalid', `key ${id} has no public key object (CE${id.toString(16)})`);
  }
  if (data[0] === 0x67) {
    const req = parseAuthenticatedRequest(data);
    if (!req.ok) throw new TargetError('malformed', `key ${id}: ${req.error.message}`);
    const pk = req.value.inner.body.publicKey;
    return { pem: pemFromCvcKey(pk, id), type: typeOf(pk), chr: req.value.inner.body.chr };
  }
  if (data[0] === 0x7f && data[1] === 0x21) {
    const cvc = parseCvc(data);
    if (!cvc.ok) throw new TargetError('malformed', `key ${id}: ${cvc.error.message}`);
    const pk = cvc.value.body.publicKey;
    return { pem: pemFromCvcKey(pk, id), type: typeOf(pk), chr: cvc.value.body.chr };
  }
  if (data[0] === 0x30) {
    try {
      const cert = new X509Certificate(Buffer.from(data));
      const type = cert.publicKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ec';
      return { pem: cert.publicKey.export({ type: 'spki', format: 'pem' }).toString(), type };
    } catch (e) {
      throw new TargetError('malformed', `key ${id}: certificate unreadable: ${messageOf(e)}`);
    }
  }
  throw new TargetError('malformed', `key ${id}: unknown public key object format`);
}

/**
 * Resolves `key` (a decimal id 1–255 or a PRKD label) to a signing key with its public key.
 * An unknown or ambiguous label is an error, never a guess.
 */
export async function resolveSigningKey(card: SmartCardHsm, key: string): Promise<SigningKey> {
  const keys = await listKeys(card);
  let match: KeyListing[];
  if (/^\d{1,3}$/.test(key)) match = keys.filter((k) => k.id === Number(key));
  else match = keys.filter((k) => k.label === key);
  if (match.length === 0) throw new TargetError('invalid', `no key "${key}" on the target`);
  if (match.length > 1)
    throw new TargetError('invalid', `label "${key}" names ${match.length} keys; use the id`);
  const k = match[0]!;
  const pub = await publicKeyOf(card, k.id);
  return { id: k.id, type: pub.type, label: k.label, chr: pub.chr, publicKeyPem: pub.pem };
}
