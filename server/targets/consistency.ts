/**
 * Card ↔ store agreement about the PKA keys registered at a target (issue 7 item 1). The card
 * counts its registered keys (m − missing, docs/card-reference.md §6.4); the store lists the
 * custodians it registered. When they differ, a key may be able to authenticate that no
 * custodian record accounts for, so the difference is recorded durably, audited, reported by
 * `target status`, and blocks ceremonies and enrollments until an operator reconciles it.
 * @module
 */
import { bytesToAscii } from '../../shared/codec/bytes';
import { SW } from '../../shared/card/status-words';
import { enumeratePkaSlotCommand, parsePkaSlot, type PkaStatus } from '../../shared/sc-hsm/pka';
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import type { Store } from '../store/store';
import type { Inconsistency } from '../store/target-consistency';
import { TargetError } from './target-error';
import type { TargetService } from './target-service';

/**
 * CHRs of the registered keys, when the card can enumerate them (`80 54 02 i`, Pico and the
 * emulator); undefined on cards that cannot (genuine SmartCard-HSM), where only counts compare.
 */
async function registeredChrs(card: SmartCardHsm, m: number): Promise<string[] | undefined> {
  const chrs: string[] = [];
  for (let i = 0; i < m; i++) {
    const r = await card.channel.send(enumeratePkaSlotCommand(i));
    if (r.sw === SW.REFERENCED_DATA_NOT_FOUND) continue;
    const slot = parsePkaSlot(r.data, r.sw);
    if (!slot.ok) return undefined;
    if (slot.value.state === 'registered') chrs.push(bytesToAscii(slot.value.chr));
  }
  return chrs;
}

/** The operator-facing description of a disagreement, with the command that resolves it. */
export function describeInconsistency(i: Inconsistency): string {
  const unknown =
    i.unknownKeys && i.unknownKeys.length > 0 ? ` (unknown: ${i.unknownKeys.join(', ')})` : '';
  const card = i.registeredOnCard === undefined ? 'an unknown number of' : i.registeredOnCard;
  return (
    `target ${i.target} is inconsistent since ${i.since}: the card holds ${card} registered ` +
    `PKA key(s) but the server knows ${i.knownToServer}${unknown}; ${i.detail}. ` +
    `Ceremonies and enrollments are blocked until an operator runs ` +
    `"custodian-server target reconcile --target ${i.target}" (see server/README.md)`
  );
}

/** Records `i` durably and in the audit chain (once per distinct state). */
export function recordInconsistency(store: Store, i: Inconsistency): void {
  const before = store.consistency.get(i.target);
  store.atomically(() => {
    store.consistency.set(i);
    if (
      before?.state !== 'inconsistent' ||
      before.registeredOnCard !== i.registeredOnCard ||
      before.knownToServer !== i.knownToServer
    ) {
      store.audit.append('target-inconsistent', {
        target: i.target,
        registeredOnCard: i.registeredOnCard ?? null,
        knownToServer: i.knownToServer,
        unknownKeys: i.unknownKeys ?? null,
        detail: i.detail,
      });
    }
  });
}

/**
 * Compares the card's count with the store (inside the target's queue). Returns the
 * disagreement, or undefined when they agree or an operator acknowledged exactly this
 * difference (card − store).
 */
export async function compareWithCard(
  store: Store,
  target: string,
  card: SmartCardHsm,
  status: PkaStatus,
  now: Date,
  detail: string,
  honourAcknowledged = true,
): Promise<Inconsistency | undefined> {
  const known = store.custodians.forTarget(target);
  const registered = status.m - status.missing;
  const flag = store.consistency.get(target);
  const accepted =
    honourAcknowledged && flag?.state === 'acknowledged' && flag.registeredOnCard !== undefined
      ? flag.registeredOnCard - flag.knownToServer
      : 0;
  if (registered - known.length === accepted) return undefined;
  const chrs = await registeredChrs(card, status.m);
  const knownChrs = new Set(known.map((c) => c.keyChr));
  return {
    target,
    state: 'inconsistent',
    detail,
    since: now.toISOString(),
    registeredOnCard: registered,
    knownToServer: known.length,
    unknownKeys: chrs?.filter((c) => !knownChrs.has(c)),
  };
}

/**
 * Refuses to go on at a target recorded as inconsistent, or whose card now disagrees with the
 * store (recording it). Runs inside the target's queue before any state-changing APDU; returns
 * the PKA status read (undefined when the card is not set up for PKA).
 * @throws TargetError `inconsistent`
 */
export async function assertConsistent(
  store: Store,
  target: string,
  card: SmartCardHsm,
  now: Date,
): Promise<PkaStatus | undefined> {
  const flag = store.consistency.get(target);
  if (flag?.state === 'inconsistent') {
    throw new TargetError('inconsistent', describeInconsistency(flag));
  }
  const status = await card.pkaStatus();
  if (!status) return undefined;
  const found = await compareWithCard(
    store,
    target,
    card,
    status,
    now,
    'found when the server next used the card',
  );
  if (found) {
    recordInconsistency(store, found);
    throw new TargetError('inconsistent', describeInconsistency(found));
  }
  return status;
}

/** What `target status` shows about card ↔ store agreement (null when they agree). */
export type ConsistencyReport = Inconsistency | null;

/**
 * The current agreement at `target` for `target status`: reads the card (recording a newly
 * found disagreement) or, when the card is unreachable, reports the recorded state.
 */
export async function inspectConsistency(
  store: Store,
  target: TargetService,
  now: Date,
): Promise<ConsistencyReport> {
  try {
    return await target.run(async (card) => {
      const status = await card.pkaStatus();
      const flag = store.consistency.get(target.name);
      if (!status || flag?.state === 'inconsistent') return flag ?? null;
      const found = await compareWithCard(store, target.name, card, status, now, 'found by status');
      if (found) recordInconsistency(store, found);
      return found ?? flag ?? null;
    });
  } catch {
    return store.consistency.get(target.name) ?? null;
  }
}

/**
 * `target reconcile`: reads the card again. When card and store agree, the record is cleared.
 * When they still disagree, only `acknowledge` lets the target be used again: the operator
 * accepts this exact difference (audited, and still shown by `target status`); any further
 * change makes it inconsistent again.
 * @throws TargetError `inconsistent` when they disagree and `acknowledge` is not set
 */
export async function reconcileTarget(
  store: Store,
  target: TargetService,
  acknowledge: boolean,
  now: Date,
): Promise<ConsistencyReport> {
  return target.run(async (card) => {
    const status = await card.pkaStatus();
    if (!status) throw new TargetError('not-pka', `target ${target.name} is not set up for PKA`);
    const before = store.consistency.get(target.name);
    const found = await compareWithCard(
      store,
      target.name,
      card,
      status,
      now,
      'found by reconcile',
      false,
    );
    if (!found) {
      if (before) {
        store.atomically(() => {
          store.consistency.clear(target.name);
          store.audit.append('target-reconciled', { target: target.name, previous: before.detail });
        });
      }
      return null;
    }
    if (!acknowledge) {
      recordInconsistency(store, found);
      throw new TargetError('inconsistent', describeInconsistency(found));
    }
    const accepted: Inconsistency = {
      ...found,
      state: 'acknowledged',
      detail: `acknowledged by an operator (${before?.detail ?? found.detail})`,
    };
    store.atomically(() => {
      store.consistency.set(accepted);
      store.audit.append('target-inconsistency-acknowledged', {
        target: target.name,
        registeredOnCard: found.registeredOnCard ?? null,
        knownToServer: found.knownToServer,
        unknownKeys: found.unknownKeys ?? null,
      });
    });
    return accepted;
  });
}
