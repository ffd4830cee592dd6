/**
 * The engine's side of the refusal flood guard (core/custodian/rejection-guard.ts): declines of
 * aggregated rejections are held until their summary entry is on disk, and a server that keeps
 * sending refused offers is disconnected without automatic reconnect (docs/protocol.md §8).
 * @module
 */
import type { DecisionMessage } from '../../shared/protocol/index';
import type { TimerHandle } from '../net/timers';
import type { EngineContext } from './engine-context';
import {
  createRejectionGuard,
  DEFAULT_REJECTION_LIMITS,
  type RejectionGuard,
  type RejectionLimits,
} from './rejection-guard';

/** Per-connection flood state kept in the engine context. */
export type FloodControl = {
  readonly guard: RejectionGuard;
  readonly limits: RejectionLimits;
  /** Declines of aggregated rejections, sent once their summary is durable. */
  readonly held: { readonly frame: DecisionMessage; readonly expiresAt: Date }[];
  timer: TimerHandle | undefined;
  /** Set once the server was disconnected as suspicious. */
  suspicious: boolean;
};

/** A fresh flood state. */
export function createFloodControl(
  now: () => number,
  limits: RejectionLimits = DEFAULT_REJECTION_LIMITS,
): FloodControl {
  const guard = createRejectionGuard(now, limits);
  return { guard, limits, held: [], timer: undefined, suspicious: false };
}

/** Stores and sends a decline (remembered for resending, like every decision). */
export function sendDecline(ctx: EngineContext, frame: DecisionMessage, expiresAt: Date): void {
  try {
    ctx.decisions.put(frame, expiresAt);
  } catch {
    ctx.audit('error', {
      what: 'decision-store',
      ceremonyId: frame.ceremonyId,
      offerId: frame.offerId,
    });
  }
  ctx.send(frame);
}

/** Writes the pending summary (fsync'd), then sends the declines it covers. */
export function flushRejectionSummary(ctx: EngineContext): void {
  const f = ctx.flood;
  if (f.timer !== undefined) ctx.timers.clearTimeout(f.timer);
  f.timer = undefined;
  const summary = f.guard.takeSummary();
  if (summary) {
    ctx.audit('offers-rejected-summary', { ...summary, byCode: { ...summary.byCode } });
    ctx.auditSync();
  }
  for (const h of f.held.splice(0)) sendDecline(ctx, h.frame, h.expiresAt);
}

/** Makes sure the pending summary is written when the window closes. */
export function scheduleRejectionSummary(ctx: EngineContext): void {
  if (ctx.flood.timer !== undefined) return;
  ctx.flood.timer = ctx.timers.setTimeout(() => {
    ctx.flood.timer = undefined;
    flushRejectionSummary(ctx);
  }, ctx.flood.limits.windowMs);
}

/** Audits, reports and disconnects a server that keeps sending refused offers. */
export function flagSuspiciousServer(ctx: EngineContext): void {
  if (ctx.flood.suspicious) return;
  ctx.flood.suspicious = true;
  flushRejectionSummary(ctx);
  const { suspicious, windowMs } = ctx.flood.limits;
  const reason = `${String(suspicious)} or more refused offers within ${String(windowMs / 1000)} s`;
  ctx.audit('server-suspicious', { reason, refusedCount: suspicious });
  ctx.auditSync();
  ctx.emit({ type: 'server-suspicious', reason, refusedCount: suspicious });
  ctx.disconnect(`server suspicious: ${reason}`);
}
