/**
 * Signing digests inside a target's unlock window: the one home of the server's signing (issue
 * 10 §4). The admin API's `POST /api/targets/:t/sign` (server/api/sign-route.ts) and the PKCS#11
 * socket (server/pkcs11/signer.ts) both sign through {@link signDigest}, which counts every
 * signature against the window (TargetService.spendSignature).
 *
 * Intent before the card step (server/README.md "Intent before every card step"): for a batch,
 * a `sign-intent` audit entry naming every digest is stored BEFORE the card signs the first one,
 * and the outcome (`signed` with exactly the digests the card signed, or `sign-refused`) after;
 * so a crash mid-batch never leaves a target signature unaudited, and the next start records
 * the batch as `sign-unresolved`.
 * @module
 */
import type { HashName } from '../../shared/crypto/ecdsa';
import { fromHex, toHex } from '../../shared/codec/bytes';
import type { RsaScheme } from '../../shared/sc-hsm/rsa';
import { recordIntent, recordOutcome } from '../store/audit-intents';
import type { Store } from '../store/store';
import { signingKey } from '../targets/target-admin';
import { TargetError } from '../targets/target-error';
import type { TargetService } from '../targets/target-service';

/** How an RSA key signs a supplied hash: scheme and the hash it is (its length must match). */
export type RsaSignOptions = { readonly scheme: RsaScheme; readonly hash: HashName };

/**
 * Signs `hash` with key `keyId` inside the unlock window, counting the signature; the last
 * allowed signature ends the window. Refused (without touching the card) when locked. EC keys
 * answer DER ECDSA; with `rsa` the key is an RSA key and the answer is the RSA signature
 * (PKCS#1 v1.5 over the hash's DigestInfo, or PSS; docs/card-reference.md §15.6).
 */
export function signDigest(
  t: TargetService,
  keyId: number,
  hash: Uint8Array,
  rsa?: RsaSignOptions,
): Promise<Uint8Array> {
  return t.spendSignature((card) =>
    rsa ? card.signRsaDigest(keyId, rsa.scheme, rsa.hash, hash) : card.signHash(keyId, hash),
  );
}

/** What one batch produced: the signatures made, in order, and why it stopped early if it did. */
export type SignedBatch = {
  readonly keyId: number;
  /** Hex signatures of the first `signatures.length` digests. */
  readonly signatures: readonly string[];
  /** Set when the card signed fewer digests than asked: the window ended or the card failed. */
  readonly failure?: unknown;
};

/**
 * Signs `digests` (hex SHA-256) with the key named `keyRef` (id or label) in order, audited as
 * intent and outcome. Stops at the first refusal and returns the signatures made before it (they
 * exist, so none is lost). Throws, before the card signs anything, when the target is locked,
 * the key is unknown or the intent cannot be stored. `reasonOf` words a refusal for the audit.
 */
export async function signDigests(
  store: Store,
  t: TargetService,
  keyRef: string,
  digests: readonly string[],
  reasonOf: (e: unknown) => string,
): Promise<SignedBatch> {
  const key = await signingKey(t, keyRef);
  // Taken before signing: the last allowed signature ends the window (and its ceremony id).
  const ceremonyId = t.unlocked?.ceremonyId;
  if (ceremonyId === undefined)
    throw new TargetError('locked', `target ${t.name} is locked: request a ceremony first`);
  const hashes = digests.map((x) => x.toLowerCase());
  const what = { target: t.name, keyId: key.id, ceremonyId };
  // The intent; a store failure here refuses the batch before the card signs anything.
  const intent = recordIntent(store, 'sign', {
    ...what,
    requested: hashes.length,
    digests: hashes,
  });
  // RSA keys sign PKCS#1 v1.5 over the SHA-256 DigestInfo: `openssl dgst -sha256 -verify`.
  const rsa = key.type === 'rsa' ? ({ scheme: 'pkcs1', hash: 'sha256' } as const) : undefined;
  const { signatures, stopped, failure } = await signInOrder(t, key.id, hashes, rsa);
  // The outcome, listing exactly the digests the card signed. Not storable: the intent already
  // covers them; the signatures are still returned (they exist) and the operator alerted.
  if (signatures.length > 0) {
    recordOutcome(store, intent, 'signed', {
      ...what,
      count: signatures.length,
      digests: hashes.slice(0, signatures.length),
      ...(stopped ? { requested: hashes.length } : {}),
    });
  } else {
    recordOutcome(store, intent, 'sign-refused', { ...what, reason: reasonOf(failure) });
  }
  return { keyId: key.id, signatures, ...(stopped ? { failure } : {}) };
}

/** Signs each digest in turn; the first refusal ends the batch. */
async function signInOrder(
  t: TargetService,
  keyId: number,
  hashes: readonly string[],
  rsa: RsaSignOptions | undefined,
): Promise<{ signatures: string[]; stopped: boolean; failure: unknown }> {
  const signatures: string[] = [];
  for (const digest of hashes) {
    try {
      signatures.push(toHex(await signDigest(t, keyId, fromHex(digest), rsa)));
    } catch (e) {
      // Window ended (signature or time limit, docs/card-reference.md §6.7) or the card failed.
      return { signatures, stopped: true, failure: e };
    }
  }
  return { signatures, stopped: false, failure: undefined };
}
