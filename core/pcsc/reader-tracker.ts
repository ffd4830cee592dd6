/**
 * Reader and card presence as pcscd reports it, turned into events. Pure bookkeeping (no
 * native calls), so the PC/SC adapter and its tests share one implementation.
 * @module
 */

/** A reader or card came or went. `atr` accompanies card-inserted when known. */
export type PcscEvent = {
  readonly type: 'reader-added' | 'reader-removed' | 'card-inserted' | 'card-removed';
  readonly reader: string;
  readonly atr?: Uint8Array;
};

type CardState = { present: boolean; count: number; atr: Uint8Array | undefined };
type Waiter = { reader: string; check: () => boolean; done: () => void };

/** Calls a listener; a failing listener must not stop the others or the native callback. */
function safeCall(listener: (e: PcscEvent) => void, e: PcscEvent): void {
  try {
    listener(e);
  } catch {
    // ignored on purpose (see above)
  }
}

/** Tracks readers and cards and notifies subscribers of changes. */
export class ReaderTracker {
  private readonly names: string[] = [];
  private readonly cards = new Map<string, CardState>();
  private readonly listeners = new Set<(e: PcscEvent) => void>();
  private waiters: Waiter[] = [];

  /** Current reader names in pcscd's order. */
  readerNames(): string[] {
    return [...this.names];
  }

  /** Whether a card is present in `reader` as far as the last status said. */
  isPresent(reader: string): boolean {
    return this.cards.get(reader)?.present === true;
  }

  private emit(e: PcscEvent): void {
    for (const l of [...this.listeners]) safeCall(l, e);
  }

  private cardEvent(
    type: 'card-inserted' | 'card-removed',
    reader: string,
    atr?: Uint8Array,
  ): void {
    this.emit(
      atr !== undefined && type === 'card-inserted' ? { type, reader, atr } : { type, reader },
    );
  }

  /** Replaces the reader list (from pcscd's multi-string), emitting the differences. */
  setReaders(next: readonly string[]): void {
    for (const name of [...this.names]) if (!next.includes(name)) this.removeReader(name);
    for (const name of next) this.addReader(name);
  }

  /** Adds one reader (no-op when known). */
  addReader(name: string): void {
    if (this.names.includes(name)) return;
    this.names.push(name);
    this.emit({ type: 'reader-added', reader: name });
    const card = this.cards.get(name);
    if (card?.present === true) this.cardEvent('card-inserted', name, card.atr);
  }

  /** Removes one reader (no-op when unknown); a card in it is reported removed first. */
  removeReader(name: string): void {
    const i = this.names.indexOf(name);
    if (i < 0) return;
    if (this.isPresent(name)) this.cardEvent('card-removed', name);
    this.cards.delete(name);
    this.names.splice(i, 1);
    this.emit({ type: 'reader-removed', reader: name });
    this.settle();
  }

  /**
   * Records a reader status. `count` is pcsc-lite's card event counter (high 16 bits of the
   * event state): a different count while present both times means the card was swapped.
   */
  status(reader: string, present: boolean, count: number, atr: Uint8Array | undefined): void {
    const prev = this.cards.get(reader);
    const next: CardState = { present, count, atr: present ? atr : undefined };
    this.cards.set(reader, next);
    const known = this.names.includes(reader);
    if (known) {
      if (prev?.present === true && (!present || prev.count !== count))
        this.cardEvent('card-removed', reader);
      if (present && (prev?.present !== true || prev.count !== count))
        this.cardEvent('card-inserted', reader, atr);
    }
    this.settle();
  }

  /** Forgets everything (context lost or closed), reporting removals. */
  dropAll(): void {
    for (const name of [...this.names]) this.removeReader(name);
    this.cards.clear();
    this.settle();
  }

  /** Subscribes; replays the current state to the new listener first. */
  subscribe(listener: (e: PcscEvent) => void): () => void {
    for (const name of this.names) {
      safeCall(listener, { type: 'reader-added', reader: name });
      const card = this.cards.get(name);
      if (card?.present !== true) continue;
      const atr = card.atr;
      safeCall(
        listener,
        atr !== undefined
          ? { type: 'card-inserted', reader: name, atr }
          : { type: 'card-inserted', reader: name },
      );
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Removes all subscribers. */
  unsubscribeAll(): void {
    this.listeners.clear();
  }

  private settle(): void {
    const pending = this.waiters;
    this.waiters = [];
    for (const w of pending) {
      if (w.check()) w.done();
      else this.waiters.push(w);
    }
  }

  private waitFor(reader: string, check: () => boolean, ms: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const w: Waiter = {
        reader,
        check,
        done: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(false);
      }, ms);
      this.waiters.push(w);
    });
  }

  /** Resolves true once no card is in `reader` (immediately if none is), false after `ms`. */
  waitForRemoval(reader: string, ms: number): Promise<boolean> {
    return this.waitFor(reader, () => !this.isPresent(reader), ms);
  }

  /** The ATR of the card in `reader`, waiting up to `ms` for its first status; empty if unknown. */
  async atrOf(reader: string, ms: number): Promise<Uint8Array> {
    const known = () => this.cards.get(reader)?.atr !== undefined;
    await this.waitFor(reader, known, ms);
    return this.cards.get(reader)?.atr ?? new Uint8Array(0);
  }
}
