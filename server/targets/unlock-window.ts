/**
 * The unlock window a quorum opens on a target: it ends at `maxSeconds` (a timer, decided on
 * the monotonic clock) or after `maxSignatures`, whichever comes first (server/README.md
 * "Unlock window"). The target (target-service.ts) owns one and resets the card when it ends.
 * @module
 */
import { TargetError } from './target-error';

/** Unlock limits after quorum. */
export type UnlockLimits = { readonly maxSeconds: number; readonly maxSignatures: number };

/** The unlock window after quorum. */
export type UnlockWindow = {
  readonly ceremonyId: string;
  readonly until: string;
  readonly signaturesLeft: number;
};

/** `until` (wall clock) is shown; `deadline` (monotonic) decides, like the timer. */
type Open = {
  readonly ceremonyId: string;
  readonly until: number;
  readonly deadline: number;
  left: number;
  readonly timer: NodeJS.Timeout;
};

/** The window of one target: closed, or open with its deadline and signatures left. */
export class UnlockState {
  private open: Open | undefined;

  constructor(
    private readonly limits: UnlockLimits,
    private readonly clock: () => number,
    /** Monotonic milliseconds: the one time source for ending the window (issue 11 item 4). */
    private readonly monotonic: () => number,
  ) {}

  /** The open window as shown to admins, or undefined. */
  get view(): UnlockWindow | undefined {
    const u = this.open;
    return (
      u && {
        ceremonyId: u.ceremonyId,
        until: new Date(u.until).toISOString(),
        signaturesLeft: u.left,
      }
    );
  }

  /** The window {@link start} would open now (recorded with the quorum before it opens). */
  planned(ceremonyId: string): UnlockWindow {
    return {
      ceremonyId,
      until: new Date(this.clock() + this.limits.maxSeconds * 1000).toISOString(),
      signaturesLeft: this.limits.maxSignatures,
    };
  }

  /** Opens the window for `ceremonyId`; `onTimeUp` runs when `maxSeconds` have passed. */
  start(ceremonyId: string, onTimeUp: () => void): UnlockWindow {
    this.end();
    const timer = setTimeout(onTimeUp, this.limits.maxSeconds * 1000);
    timer.unref();
    this.open = {
      ceremonyId,
      until: this.clock() + this.limits.maxSeconds * 1000,
      deadline: this.monotonic() + this.limits.maxSeconds * 1000,
      left: this.limits.maxSignatures,
      timer,
    };
    return this.view!;
  }

  /** Closes the window (idempotent). */
  end(): void {
    if (this.open) clearTimeout(this.open.timer);
    this.open = undefined;
  }

  /** Refuses with `locked` unless the window is open (checked before any APDU). */
  check(target: string): void {
    this.current(target);
  }

  /**
   * Counts one signature against the open window (refused with `locked` when closed); true when
   * it was the last one allowed, after which the window must end.
   */
  spend(target: string): boolean {
    const u = this.current(target);
    u.left--;
    return u.left === 0;
  }

  private current(target: string): Open {
    const u = this.open;
    if (!u || this.monotonic() >= u.deadline || u.left <= 0) {
      throw new TargetError('locked', `target ${target} is locked: request a ceremony first`);
    }
    return u;
  }
}
