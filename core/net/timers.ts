/**
 * Injectable timers and randomness, so reconnect, heartbeat and expiry logic runs on a fake
 * clock in tests.
 * @module
 */

/** An opaque timer handle. */
export type TimerHandle = { readonly __timer: unique symbol } | number | object;

/** The timer functions the network code uses. */
export type Timers = {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds since the epoch. */
  now(): number;
};

/** The real timers (handles are unref'd so a pending reconnect never keeps a CLI alive by itself). */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    return setTimeout(fn, ms);
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
  now: () => Date.now(),
};
