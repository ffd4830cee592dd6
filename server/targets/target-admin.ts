/**
 * Admin operations on a target: PKA initialization (docs/card-reference.md §3.4, §6.3), status, keys, and
 * the signing key's public key. Key generation: ./target-keygen.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { asciiBytes } from '../../shared/codec/bytes';
import { OPTION } from '../../shared/sc-hsm/constants';
import type { Store } from '../store/store';
import { listKeys, resolveSigningKey, type KeyListing, type SigningKey } from './key-info';
import { recordIntent, recordOutcome } from '../store/audit-intents';
import { TargetError } from './target-error';
import type { TargetService, TargetStatus } from './target-service';

/** PKA initialization parameters. */
export type PkaInitOptions = {
  /** Keys to register (m). */
  readonly m: number;
  /** Keys required to unlock (n). */
  readonly n: number;
  /** SO-PIN as 16 hex digits; generated when absent (and returned once). */
  readonly soPin?: string;
  /** Allow replacing registered keys later (option `0008`, docs/card-reference.md §3.5). */
  readonly replaceableKeys?: boolean;
  /** Require PIN and PKA (option `0010`); needs `userPin`. */
  readonly userPin?: string;
  readonly pkaAndPin?: boolean;
  /** DKEK shares (tag `92`); omitted = no DKEK. */
  readonly dkekShares?: number;
};

/**
 * Initializes the target for n-of-m PKA. This wipes the device (docs/card-reference.md §3.4), so it is
 * refused while a ceremony is active or custodians are enrolled (their registrations would be
 * gone while the server still listed them).
 */
export async function initializeTarget(
  store: Store,
  target: TargetService,
  opts: PkaInitOptions,
): Promise<{ status: TargetStatus; soPin: string | undefined }> {
  if (store.ceremonies.active().some((c) => c.target === target.name)) {
    throw new TargetError('busy', `target ${target.name} has an active ceremony`);
  }
  const enrolled = store.custodians.forTarget(target.name).length;
  if (enrolled > 0) {
    throw new TargetError(
      'busy',
      `target ${target.name} has ${enrolled} enrolled custodian(s); initializing would wipe their keys`,
    );
  }
  const generated =
    opts.soPin === undefined ? randomBytes(8).toString('hex').toUpperCase() : undefined;
  let mask = OPTION.RESET_RETRY_COUNTER;
  if (opts.replaceableKeys === true) mask |= OPTION.REPLACE_PKA;
  if (opts.pkaAndPin === true) mask |= OPTION.PKA_AND_PIN;
  const what = { target: target.name, m: opts.m, n: opts.n, options: mask };
  // Intent before wiping the device (server/README.md): a store failure refuses untouched.
  const intent = recordIntent(store, 'target-init', what);
  await target.run(async (card) => {
    try {
      // Wipes the device, then re-selects (docs/card-reference.md §3.4).
      await card.initialize({
        soPin: opts.soPin ?? generated!,
        pka: { m: opts.m, n: opts.n },
        options: mask,
        ...(opts.userPin === undefined ? {} : { userPin: asciiBytes(opts.userPin) }),
        ...(opts.dkekShares === undefined ? {} : { dkekShares: opts.dkekShares }),
      });
    } catch (e) {
      recordOutcome(store, intent, 'target-init-refused', { ...what, reason: String(e) });
      if (e instanceof RangeError) throw new TargetError('invalid', e.message);
      throw e;
    }
  });
  recordOutcome(store, intent, 'target-initialized', {
    ...what,
    deviceId: target.deviceId ?? '',
  });
  return { status: await target.status(), soPin: generated };
}

/** Keys on the target. */
export function targetKeys(target: TargetService): Promise<KeyListing[]> {
  return target.run((card) => listKeys(card));
}

/** The signing key `key` (id or label) with its public key and the target's device id. */
export async function signingKey(
  target: TargetService,
  key: string,
): Promise<SigningKey & { deviceId: string }> {
  return target.run(async (card, chain) => ({
    ...(await resolveSigningKey(card, key)),
    deviceId: chain.deviceId,
  }));
}
