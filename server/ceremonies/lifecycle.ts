/**
 * Ceremony lifecycle steps that run from timers and target-reset listeners, where a store
 * failure must never crash the server (issue 11 item 1): re-opening in a new epoch after the
 * card forgot its state, and final states that are retried until they are stored.
 * @module
 */
import { toHex } from '../../shared/codec/bytes';
import type { ServerAuditEvent } from '../store/audit';
import type { CeremonyState } from '../store/ceremonies';
import { contained, oneLine } from '../store/store-health';
import { CeremonyError, type CeremonyContext } from './context';
import { resolveForgotten } from './reconcile';

/** How soon a final state that could not be stored is tried again. */
export const FINISH_RETRY_MS = 2000;

/**
 * `finish` from a timer or listener: a store failure is contained (reported, the server keeps
 * serving) and the final state is tried again until it is stored or no longer needed.
 */
export function finishOrRetry(
  ctx: CeremonyContext,
  id: string,
  state: CeremonyState,
  reason: string,
  event: ServerAuditEvent,
): void {
  const done = contained(ctx.store.health, `recording ceremony ${id} as ${state}`, () => {
    ctx.finish(id, state, reason, event);
    return true;
  });
  if (done) return;
  ctx.setTimer(
    id,
    () => {
      const c = contained(ctx.store.health, `reading ceremony ${id}`, () =>
        ctx.store.ceremonies.get(id),
      );
      if (c === undefined || c.state === 'open' || c.state === 'quorum')
        finishOrRetry(ctx, id, state, reason, event);
    },
    FINISH_RETRY_MS,
  );
}

/** The expiry timer's callback: never throws (a store that cannot be read is retried). */
export function expire(ctx: CeremonyContext, id: string): void {
  let state: string | undefined;
  try {
    state = ctx.store.ceremonies.get(id)?.state;
  } catch (e) {
    ctx.store.health.report(`reading ceremony ${id} at its expiry`, e);
    setTimeout(() => expire(ctx, id), FINISH_RETRY_MS).unref();
    return;
  }
  if (state === 'open')
    finishOrRetry(ctx, id, 'expired', 'quorum not reached in time', 'ceremony-expired');
}

/**
 * New epoch: fresh challenge, offers again to everyone (earlier approvals no longer count).
 * The new epoch, the resolution of intents the card forgot, and the audit entry are one
 * transaction.
 */
export async function reopen(
  ctx: CeremonyContext,
  id: string,
  why: string,
  armExpiry: (id: string) => void,
): Promise<void> {
  // Runs detached (`void reopen(…)` from a reset listener): nothing here may reject.
  const c = contained(ctx.store.health, `reading ceremony ${id}`, () =>
    ctx.store.ceremonies.get(id),
  );
  if (!c) return;
  try {
    const epoch = await ctx.target(c.target).run(async (card, chain) => {
      if (chain.deviceId !== c.deviceId) {
        throw new CeremonyError(
          'invalid',
          `target device is now ${chain.deviceId}, not ${c.deviceId}`,
        );
      }
      const status = await card.pkaStatus();
      if (!status) throw new CeremonyError('not-pka', 'target is no longer set up for PKA');
      const challenge = await card.getChallenge();
      const current = ctx.store.ceremonies.get(id);
      if (current?.state !== 'open') return undefined;
      const e = ctx.store.atomically(() => {
        resolveForgotten(ctx, id, why);
        const next = ctx.store.ceremonies.newEpoch(id, toHex(challenge));
        ctx.audit('ceremony-reopened', {
          ceremonyId: id,
          target: c.target,
          epoch: next,
          reason: why,
        });
        return next;
      });
      ctx.startEpoch(id, status.authenticated);
      return e;
    });
    if (epoch === undefined) return;
    armExpiry(id);
    ctx.offerToAll(ctx.store.ceremonies.get(id)!);
    ctx.broadcast(id, `${why}; approvals must be given again`);
  } catch (e) {
    ctx.store.health.report(`re-opening ceremony ${id}`, e);
    finishOrRetry(ctx, id, 'failed', `could not re-open: ${oneLine(e)}`, 'ceremony-failed');
  }
}
