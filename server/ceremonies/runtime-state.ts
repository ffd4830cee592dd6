/**
 * The in-memory runtime of active ceremonies: the card's authenticated count, the offers of
 * the current epoch, the expiry timer and monotonic deadline, whether a re-opening is pending,
 * and what was decided per offer. Private state changed only through these methods; the
 * ceremony context (context.ts) builds on it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { ResultMessage } from '../../shared/protocol';

/** In-memory runtime of an active ceremony (private to {@link CeremonyRuntime}). */
type Runtime = {
  /** The card's authenticated count as last read (`80 54`, docs/card-reference.md §6.4). */
  authenticated: number;
  /** offerId → custodianId for the current epoch. */
  readonly offers: Map<string, string>;
  /** custodianId → offerId for the current epoch. */
  readonly byCustodian: Map<string, string>;
  timer: NodeJS.Timeout | undefined;
  /**
   * When the ceremony expires on the monotonic clock: the ONE time source for expiry decisions
   * (the timer and the decision check agree; a wall-clock jump moves neither).
   */
  deadline: number | undefined;
  /**
   * Set while the ceremony waits to be re-opened (the card forgot its state): no offers are
   * sent and no decisions are taken in the old epoch.
   */
  suspended: string | undefined;
  /** offerId → the decision processed (canonical JSON) and the result sent, for idempotent resends. */
  readonly decided: Map<string, DecidedOffer>;
};

/** What was decided on an offer: the canonical decision and the result sent, if any. */
export type DecidedOffer = {
  readonly decision: string;
  readonly result: ResultMessage | undefined;
};

/** Per-ceremony runtime state of the ceremony engine (see module doc). */
export class CeremonyRuntime {
  private readonly runtime = new Map<string, Runtime>();
  /** Decisions being handled, by offer id (one at a time per offer). */
  private readonly deciding = new Map<string, Promise<void>>();

  constructor(
    /** Monotonic milliseconds (expiry decisions). */
    readonly monotonic: () => number,
  ) {}

  private runtimeOf(id: string): Runtime {
    let rt = this.runtime.get(id);
    if (!rt) {
      rt = {
        authenticated: 0,
        offers: new Map(),
        byCustodian: new Map(),
        timer: undefined,
        deadline: undefined,
        suspended: undefined,
        decided: new Map(),
      };
      this.runtime.set(id, rt);
    }
    return rt;
  }

  /** The card's authenticated count for the ceremony, as last known. */
  authenticated(id: string): number {
    return this.runtime.get(id)?.authenticated ?? 0;
  }

  /** Records the card's authenticated count (read from the card, or counted from a 9000). */
  setAuthenticated(id: string, authenticated: number): void {
    this.runtimeOf(id).authenticated = authenticated;
  }

  /** Whether `offerId` is the current offer of `custodianId` in the ceremony. */
  offerIsCurrent(id: string, offerId: string, custodianId: string): boolean {
    return this.runtime.get(id)?.offers.get(offerId) === custodianId;
  }

  /** Whether the ceremony waits to be re-opened (no offers, no decisions). */
  isSuspended(id: string): boolean {
    return this.runtime.get(id)?.suspended !== undefined;
  }

  /**
   * The card forgot the ceremony's state: nothing more is offered or decided in this epoch
   * while the re-opening waits for the card's queue.
   */
  suspend(id: string, why: string): void {
    const rt = this.runtimeOf(id);
    rt.suspended = why;
    rt.authenticated = 0;
    rt.offers.clear();
    rt.byCustodian.clear();
  }

  /** A new epoch started with the card's count `authenticated`: offers are made afresh. */
  startEpoch(id: string, authenticated: number): void {
    const rt = this.runtimeOf(id);
    rt.offers.clear();
    rt.byCustodian.clear();
    rt.suspended = undefined;
    rt.authenticated = authenticated;
  }

  /** What was decided on an offer of the ceremony, if anything. */
  decided(id: string, offerId: string): DecidedOffer | undefined {
    return this.runtime.get(id)?.decided.get(offerId);
  }

  /** Remembers a decision (and the result sent) for idempotent re-sends. */
  noteDecided(id: string, offerId: string, decided: DecidedOffer): void {
    this.runtimeOf(id).decided.set(offerId, decided);
  }

  /** The results already sent to a custodian for their offers of this epoch (for re-sends). */
  resultsFor(id: string, custodianId: string): ResultMessage[] {
    const rt = this.runtime.get(id);
    if (!rt) return [];
    const out: ResultMessage[] = [];
    for (const [offerId, d] of rt.decided) {
      if (rt.offers.get(offerId) === custodianId && d.result) out.push(d.result);
    }
    return out;
  }

  /**
   * Runs `fn` when no other decision on `offerId` is being handled: a duplicate waits for the
   * first and is then answered from what it recorded.
   */
  async oneAtATime(offerId: string, fn: () => Promise<void>): Promise<void> {
    for (let busy = this.deciding.get(offerId); busy; busy = this.deciding.get(offerId)) {
      await busy.catch(() => undefined);
    }
    const run = fn();
    this.deciding.set(offerId, run);
    try {
      await run;
    } finally {
      if (this.deciding.get(offerId) === run) this.deciding.delete(offerId);
    }
  }

  /**
   * Arms the ceremony's expiry: `onExpire` runs after `ms`, and the monotonic deadline the
   * decision check uses is set from the same figure (one time source, issue 11 item 4).
   */
  armDeadline(id: string, ms: number, onExpire: () => void): void {
    const rt = this.runtimeOf(id);
    rt.deadline = this.monotonic() + ms;
    this.setTimer(id, onExpire, ms);
  }

  /** (Re)sets the ceremony's one timer (expiry, or a retry of its final state). */
  setTimer(id: string, fn: () => void, ms: number): void {
    const rt = this.runtimeOf(id);
    if (rt.timer) clearTimeout(rt.timer);
    rt.timer = setTimeout(fn, ms);
    rt.timer.unref();
  }

  /** Stops the ceremony's timer. */
  clearTimer(id: string): void {
    const rt = this.runtime.get(id);
    if (rt?.timer) clearTimeout(rt.timer);
    if (rt) rt.timer = undefined;
  }

  /** Stops every timer and forgets all runtime state (the store stays as it is). */
  stopAll(): void {
    for (const rt of this.runtime.values()) if (rt.timer) clearTimeout(rt.timer);
    this.runtime.clear();
  }

  /** The offer id of a custodian in the current epoch, made on first use. */
  protected offerIdFor(id: string, custodianId: string): string {
    const rt = this.runtimeOf(id);
    let offerId = rt.byCustodian.get(custodianId);
    if (offerId === undefined) {
      offerId = `o-${randomBytes(12).toString('hex')}`;
      rt.byCustodian.set(custodianId, offerId);
      rt.offers.set(offerId, custodianId);
    }
    return offerId;
  }

  /** The monotonic deadline the expiry timer was armed with, if it was. */
  protected deadlineOf(id: string): number | undefined {
    return this.runtime.get(id)?.deadline;
  }

  /** Stops the ceremony's timer and forgets its runtime; returns the card's last count. */
  protected forget(id: string): number {
    const rt = this.runtime.get(id);
    if (rt?.timer) clearTimeout(rt.timer);
    this.runtime.delete(id);
    return rt?.authenticated ?? 0;
  }
}
