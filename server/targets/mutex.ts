/**
 * A FIFO mutex: operations on one target run strictly one after another, so no APDU of one
 * operation can land between two of another (a ceremony's MSE SET AT and its EXTERNAL
 * AUTHENTICATE must stay adjacent, docs/card-reference.md §6.6).
 * @module
 */

/** Serialises async operations. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Number of operations queued or running. */
  get pending(): number {
    return this.waiting;
  }

  /** Runs `fn` after every earlier operation has settled; resolves/rejects with its result. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => this.waiting--,
      () => this.waiting--,
    );
    return result;
  }
}
