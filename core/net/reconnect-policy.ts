/**
 * When the custodian's connection reconnects, and after how long: what a close means (the reason
 * shown and whether retrying can help) and the back-off schedule of the attempts (full jitter,
 * core/net/backoff.ts). Used by the connection manager (core/net/ws-client.ts).
 * @module
 */
import { CLOSE_CODES, describeCloseCode, shouldReconnect } from '../../shared/protocol/index';
import { singleLineSafe } from '../../shared/text/terminal-safe';
import { backoffDelay, type BackoffPolicy } from './backoff';
import type { TimerHandle, Timers } from './timers';

/**
 * Close codes after which reconnecting with the same secret is pointless or unwanted. 4001
 * (credential refused) is not among them (issue 11 item 10): a refusal may be transient (a
 * server restoring its store, a lockout caused by others' guesses), so a session retries it
 * with back-off and the custodian is told each time; a revoked enrollment is 4007 (final).
 */
const FINAL_CODES: ReadonlySet<number> = new Set([
  CLOSE_CODES.SUPERSEDED,
  CLOSE_CODES.UNSUPPORTED_VERSION,
  CLOSE_CODES.REVOKED,
]);

/** Why the client closed a connection itself, and whether it wants to reconnect after it. */
export type LocalClose = {
  readonly code: number;
  readonly reason: string;
  readonly retry: boolean;
};

/**
 * What a close means: the reason to show and whether a reconnect may help. A close the client
 * made itself (`local`) carries both; otherwise they follow the server's close code.
 */
export function closeOutcome(
  code: number,
  reason: string,
  local: LocalClose | undefined,
): { readonly why: string; readonly retry: boolean } {
  if (local) return { why: local.reason, retry: local.retry };
  // The close reason is server text: kept on one line with control/format characters escaped.
  const why = `${describeCloseCode(code)}${reason ? `: ${singleLineSafe(reason)}` : ''}`;
  const retry =
    code === CLOSE_CODES.AUTH_FAILED || (!FINAL_CODES.has(code) && shouldReconnect(code));
  return { why, retry };
}

/** The reconnect attempts: their count, the next jittered delay, and the pending retry timer. */
export type RetrySchedule = {
  /** Attempts since the last successful authentication. */
  readonly attempt: number;
  /** Draws the next attempt's delay and counts the attempt. */
  next(): { readonly attempt: number; readonly delayMs: number };
  /** Runs `retry` after `delayMs`. */
  wait(delayMs: number, retry: () => void): void;
  /** Cancels a pending retry (a no-op when none is pending). */
  cancel(): void;
  /** Starts counting again from the first, shortest delay (after a `welcome`). */
  reset(): void;
};

/** Creates a schedule with no attempt made yet. */
export function createRetrySchedule(
  timers: Timers,
  random: () => number,
  policy: BackoffPolicy,
): RetrySchedule {
  let attempt = 0;
  let timer: TimerHandle | undefined;
  return {
    get attempt() {
      return attempt;
    },
    next() {
      const delayMs = backoffDelay(attempt, random, policy);
      attempt += 1;
      return { attempt, delayMs };
    },
    wait(delayMs, retry) {
      timer = timers.setTimeout(retry, delayMs);
    },
    cancel() {
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
    },
    reset() {
      attempt = 0;
    },
  };
}
