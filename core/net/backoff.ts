/**
 * Reconnect back-off: exponential with full jitter (delay uniformly drawn from 0 to the capped
 * exponential), so many custodians reconnecting after a server restart spread out instead of
 * arriving together (docs/card-reference.md §14.2 item 7: bounded retries and timeouts).
 * @module
 */
import { RECONNECT } from '../../shared/protocol/limits';

/** Back-off bounds. */
export type BackoffPolicy = {
  /** Cap of the first attempt's delay. */
  readonly initialMs: number;
  /** Largest delay ever waited. */
  readonly maxMs: number;
};

/** The protocol's default bounds. */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: RECONNECT.initialMs,
  maxMs: RECONNECT.maxMs,
};

/**
 * Delay before reconnect attempt `attempt` (0-based): `random() × min(maxMs, initialMs × 2^attempt)`,
 * rounded down. `random` must return a number in [0, 1); values outside are clamped.
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  // 2^31 already exceeds every sensible cap; stop doubling there to stay finite.
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(n, 31));
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.floor(unit * ceiling);
}
