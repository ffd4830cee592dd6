/**
 * Reconciliation from intents (server/README.md "Intent before every card step"): an approval
 * intent is stored before the signature reaches the target and resolved once the card answered.
 * An intent still pending when the card's volatile PKA state is gone (restart, reset, lost
 * connection; docs/card-reference.md §6.7) can never count again: it is resolved as `failed` with an
 * `approval-unresolved` audit entry, so the record shows exactly what happened. Signing batches
 * are reconciled the same way from their `sign-intent` audit entry (api/sign-route.ts).
 * @module
 */
import { resolveInterruptedIntents } from '../store/audit-intents';
import type { CeremonyContext } from './context';

/**
 * Resolves the pending intents of one ceremony (all when `ceremonyId` is undefined) as forgotten
 * by the card. Call inside `Store.atomically` together with the change that made the card forget.
 */
export function resolveForgotten(
  ctx: CeremonyContext,
  ceremonyId: string | undefined,
  why: string,
): number {
  let n = 0;
  for (const p of ctx.store.ceremonies.pendingIntents()) {
    if (ceremonyId !== undefined && p.ceremonyId !== ceremonyId) continue;
    ctx.store.ceremonies.resolveIntent({ ...p, outcome: 'failed', sw: undefined, time: ctx.now() });
    ctx.audit('approval-unresolved', {
      ceremonyId: p.ceremonyId,
      custodianId: p.custodianId,
      epoch: p.epoch,
      reason: `the target's answer was not recorded (${why}); the card no longer holds it`,
    });
    n++;
  }
  return n;
}

/**
 * At start, in one transaction: every approval intent left pending by the previous run is
 * resolved, and every other card step whose outcome was never stored (a signing batch, key
 * generation, initialization) is recorded as unresolved (store/audit-intents.ts).
 */
export function reconcileIntents(ctx: CeremonyContext): void {
  ctx.store.atomically(() => {
    resolveForgotten(ctx, undefined, 'server restarted');
    resolveInterruptedIntents(ctx.store);
  });
}
