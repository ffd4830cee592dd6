/**
 * Checking a custodian's `.pka` file before anything is registered (docs/card-reference.md §6.5): the
 * custodian device chain must lead to a configured trust anchor, and the device key must have
 * attested the custodian key (outer signature), which must be a 256-bit EC key signing its
 * own request. Register only what verifies.
 * @module
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fromHex, isHex } from '../../shared/codec/bytes';
import {
  anchorFromCvc,
  productionAnchor,
  validateDeviceChain,
  verifyKeyAttestation,
  type AttestedKey,
  type TrustAnchor,
} from '../../shared/cvc/chain';
import { keyOf, type VerificationKey } from '../../shared/cvc/verify';
import { deviceCertificatesOf, parsePkaFile, type PkaFile } from '../../shared/pka/pka-file';
import { err, ok, type Result } from '../../shared/result';
import { messageOf } from '../../shared/error-message';

/** A `.pka` that verified. */
export type CheckedPka = {
  readonly file: PkaFile;
  readonly key: AttestedKey;
  /** CHR of the custodian's device (the attesting device). */
  readonly deviceId: string;
  /** `/SRCA/DICA/device` path of the custodian's device. */
  readonly path: string;
};

/** Why a `.pka` was refused. */
export type PkaCheckError = {
  readonly code: 'malformed' | 'untrusted-chain' | 'bad-attestation';
  readonly message: string;
};

/** Parses and verifies a `.pka` against the trust anchors. */
export function checkPka(
  bytes: Uint8Array,
  anchors: readonly TrustAnchor[],
  now: Date = new Date(),
): Result<CheckedPka, PkaCheckError> {
  const file = parsePkaFile(bytes);
  if (!file.ok) return err({ code: 'malformed', message: file.error.message });
  const verdict = validateDeviceChain(deviceCertificatesOf(file.value), anchors, now);
  if (!verdict.genuine) {
    return err({ code: 'untrusted-chain', message: `custodian device chain: ${verdict.message}` });
  }
  const key = verifyKeyAttestation(file.value.request, verdict);
  if (!key.ok)
    return err({ code: 'bad-attestation', message: `key attestation: ${key.error.message}` });
  return ok({ file: file.value, key: key.value, deviceId: verdict.deviceId, path: verdict.path });
}

/** The verification key of a stored (already checked) `.pka`, or undefined if unreadable. */
export function custodianKeyOf(pka: Uint8Array): VerificationKey | undefined {
  const file = parsePkaFile(pka);
  if (!file.ok) return undefined;
  const key = keyOf(file.value.request.inner);
  return key.ok ? key.value : undefined;
}

/**
 * Loads the configured trust anchors: `production` is the built-in CardContact root; anything
 * else is a path to a CVC file (binary, or hex text).
 */
export function loadTrustAnchors(entries: readonly string[]): TrustAnchor[] {
  return entries.map((entry) => {
    if (entry === 'production') return productionAnchor();
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(entry);
    } catch (e) {
      throw new Error(`cannot read trust anchor ${entry}: ${messageOf(e)}`);
    }
    const text = new TextDecoder('latin1').decode(bytes).replace(/\s/g, '');
    if (text.length > 0 && isHex(text)) bytes = fromHex(text);
    const anchor = anchorFromCvc(new Uint8Array(bytes), basename(entry));
    if (!anchor.ok) throw new Error(`trust anchor ${entry}: ${anchor.error.message}`);
    return anchor.value;
  });
}
