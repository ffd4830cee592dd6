/**
 * The custodian's heartbeat watchdog: the server is declared dead when no valid frame arrived
 * for `missedLimit` heartbeat periods (docs/protocol.md "Heartbeat"). Each valid frame re-arms it.
 * @module
 */
import type { TimerHandle, Timers } from './timers';

/** One watchdog timer, re-armed on every sign of life. */
export type HeartbeatWatchdog = {
  /** (Re)starts the countdown: `onExpired` runs after `ms` unless re-armed or cleared first. */
  arm(ms: number, onExpired: () => void): void;
  clear(): void;
};

/** Creates a watchdog that is not armed. */
export function createHeartbeatWatchdog(timers: Timers): HeartbeatWatchdog {
  let timer: TimerHandle | undefined;
  const clear = (): void => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  return {
    arm(ms, onExpired) {
      clear();
      timer = timers.setTimeout(onExpired, ms);
    },
    clear,
  };
}
