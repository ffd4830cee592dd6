/**
 * Registering a checked `.pka` at the target card (docs/card-reference.md §6.5) so that card
 * and store never silently disagree (issue 7 item 1): serialized in the target's queue, from a
 * fresh selection (issue 11 item 5), after a consistency check, with the store written right
 * after the card accepted and the card read back when the outcome is unknown.
 * @module
 */
import { PkaError } from '../../core/sc-hsm/pka-target';
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { CardStatusError } from '../../shared/card/status-words';
import type { Store } from '../store/store';
import type { Inconsistency } from '../store/target-consistency';
import {
  assertConsistent,
  compareWithCard,
  describeInconsistency,
  recordInconsistency,
} from '../targets/consistency';
import { TargetError } from '../targets/target-error';
import type { TargetService } from '../targets/target-service';
import { messageOf } from '../../shared/error-message';
import { EnrollmentError } from './enrollment-error';
import type { CheckedPka } from './pka-check';

/** What registration needs from the enrollment service. */
export type RegistrationContext = { readonly store: Store; readonly clock: () => Date };

/**
 * Registers the checked key at the target card inside the target's queue, which serializes
 * enrollment per target, from a fresh selection (issue 11 item 5). Before any state-changing
 * APDU the card and the store must agree (./targets/consistency); `record` writes the store
 * right after the card accepted. When the outcome is unknown (the answer was lost), the card
 * is read back: untouched, the error stands; holding exactly this key, it is recorded;
 * anything else marks the target inconsistent. `progress.mayHaveRegistered` tells the caller
 * whether a key may have reached the card (then an enrollment token stays used up).
 */
export async function registerAtTarget(
  ctx: RegistrationContext,
  target: TargetService,
  checked: CheckedPka,
  name: string,
  record: () => void,
  progress: { mayHaveRegistered: boolean },
): Promise<void> {
  try {
    const check = async (card: SmartCardHsm) => {
      const status = await assertConsistent(ctx.store, target.name, card, ctx.clock());
      if (!status)
        throw new EnrollmentError('not-pka', `target ${target.name} is not set up for PKA`);
      if (status.missing === 0) {
        throw new EnrollmentError(
          'target-full',
          `all ${status.m} keys of target ${target.name} are registered`,
        );
      }
      refuseDuplicates(ctx.store, target.name, name, checked.key.chr);
    };
    // Only a registration that will happen resets the card (never an open ceremony's state).
    await target.runFresh(check, async (card) => {
      const { file } = checked;
      progress.mayHaveRegistered = true;
      try {
        await card.registerPublicKey({
          request: file.request,
          device: file.device,
          dica: file.dica,
        });
      } catch (e) {
        // A refusal by the card is final for this .pka and registers nothing.
        if (e instanceof CardStatusError || e instanceof PkaError) {
          progress.mayHaveRegistered = false;
          throw new EnrollmentError('bad-pka', `target refused the key: ${e.message}`);
        }
        throw e;
      }
      recordOrFlag(ctx, target.name, checked.key.chr, record);
    });
  } catch (e) {
    if (!progress.mayHaveRegistered || e instanceof EnrollmentError || e instanceof TargetError)
      throw e;
    const outcome = await readBack(ctx, target, checked.key.chr, record);
    if (outcome === 'recorded') return;
    if (outcome === 'untouched') {
      progress.mayHaveRegistered = false;
      throw e;
    }
    throw new TargetError('inconsistent', describeInconsistency(outcome));
  }
}

/** Writes the store after the card accepted; a store failure leaves the target flagged. */
function recordOrFlag(
  ctx: RegistrationContext,
  target: string,
  keyChr: string,
  record: () => void,
): void {
  try {
    record();
  } catch (e) {
    const known = ctx.store.custodians.forTarget(target).length;
    recordInconsistency(ctx.store, {
      target,
      state: 'inconsistent',
      detail: `key ${keyChr} was registered at the card but could not be recorded: ${messageOf(e)}`,
      since: ctx.clock().toISOString(),
      registeredOnCard: undefined,
      knownToServer: known,
      unknownKeys: [keyChr],
    });
    throw e;
  }
}

/** Reads the card back after a registration with an unknown outcome (see registerAtTarget). */
async function readBack(
  ctx: RegistrationContext,
  target: TargetService,
  keyChr: string,
  record: () => void,
): Promise<'untouched' | 'recorded' | Inconsistency> {
  const now = ctx.clock();
  const detail = `the answer to the registration of key ${keyChr} was lost`;
  try {
    return await target.run(async (card) => {
      const status = await card.pkaStatus();
      if (!status) throw new Error('the card no longer reports PKA status');
      const found = await compareWithCard(ctx.store, target.name, card, status, now, detail);
      if (!found) return 'untouched';
      const extra = found.unknownKeys;
      if (
        extra?.length === 1 &&
        extra[0] === keyChr &&
        found.registeredOnCard === found.knownToServer + 1
      ) {
        recordOrFlag(ctx, target.name, keyChr, record);
        return 'recorded';
      }
      recordInconsistency(ctx.store, found);
      return found;
    });
  } catch (e) {
    const lost: Inconsistency = {
      target: target.name,
      state: 'inconsistent',
      detail: `${detail}, and the card could not be read back (${messageOf(e)})`,
      since: now.toISOString(),
      registeredOnCard: undefined,
      knownToServer: ctx.store.custodians.forTarget(target.name).length,
      unknownKeys: undefined,
    };
    recordInconsistency(ctx.store, lost);
    return lost;
  }
}

export function refuseDuplicates(store: Store, target: string, name: string, keyChr: string): void {
  if (store.custodians.byName(target, name)) {
    throw new EnrollmentError('duplicate', `custodian "${name}" is already enrolled at ${target}`);
  }
  if (store.custodians.byKeyChr(target, keyChr)) {
    throw new EnrollmentError('duplicate', `key ${keyChr} is already registered at ${target}`);
  }
}
