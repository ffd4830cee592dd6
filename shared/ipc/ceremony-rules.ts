/**
 * Rules main and the renderer share about which ceremonies count as waiting for the custodian,
 * so the list's "Waiting for you", the sidebar count, the window title and the tray badge can
 * never disagree. Pure.
 * @module
 */
import type { CeremonySummary } from './model';

/**
 * The target's chain did not check out (failed, or ends in a root this app does not know): such
 * a ceremony is never approvable, so it is never "waiting for you" nor counted.
 */
export function isNotGenuine(c: Pick<CeremonySummary, 'targetChain'>): boolean {
  return c.targetChain?.status === 'untrusted' || c.targetChain?.status === 'invalid';
}

/**
 * Waiting for this custodian: open here, not past its expiry by this computer's clock (not only
 * the server's word), and with a target that is genuine or a TEST target this app knows.
 */
export function isActionable(c: CeremonySummary, now: number = Date.now()): boolean {
  return c.status === 'waiting' && !isNotGenuine(c) && Date.parse(c.expiresAt) > now;
}

/** The ceremonies waiting for this custodian ({@link isActionable}). */
export function actionable(list: readonly CeremonySummary[], now: number = Date.now()) {
  return list.filter((c) => isActionable(c, now));
}

/** The soonest expiry among the waiting ceremonies, if any. */
export function soonestExpiry(
  list: readonly CeremonySummary[],
  now: number = Date.now(),
): string | undefined {
  let best: string | undefined;
  for (const c of actionable(list, now)) {
    if (best === undefined || Date.parse(c.expiresAt) < Date.parse(best)) best = c.expiresAt;
  }
  return best;
}

/**
 * The status to show: a ceremony the server still calls waiting but whose `expiresAt` has
 * passed by this computer's clock is expired here (never "Waiting for you").
 */
export function effectiveStatus(
  c: Pick<CeremonySummary, 'status' | 'expiresAt'>,
  now: number = Date.now(),
): CeremonySummary['status'] {
  return c.status === 'waiting' && Date.parse(c.expiresAt) <= now ? 'expired' : c.status;
}
