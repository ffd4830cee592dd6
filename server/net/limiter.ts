/**
 * A sliding-window failure counter per key (client address or custodian id), used to slow
 * down guessing of enrollment tokens and credentials (./admission decides what a count means).
 * @module
 */

/** Recent failures remembered per key. */
const MAX_PER_KEY = 64;

/** Counts failures per key within a window. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const since = this.clock() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Records a failure. */
  fail(key: string): void {
    const list = this.recent(key);
    // Bounded per key: beyond this many recent failures every count means "at the maximum".
    if (list.length >= MAX_PER_KEY) list.shift();
    list.push(this.clock());
    this.failures.set(key, list);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  /** Failures of `key` within the window. */
  count(key: string): number {
    return this.recent(key).length;
  }

  /** True when `key` reached the limit within the window. */
  blocked(key: string): boolean {
    return this.recent(key).length >= this.max;
  }
}
