/**
 * The ceremony engine: request → ONE challenge from the target → offers to the target's
 * connected custodians → each approval authenticated at the target against that challenge
 * (docs/card-reference.md §6.6) → quorum read from the card's own status (`80 54`, docs/card-reference.md §6.4) →
 * unlock window → reset. Also decline, expiry, cancel, reconnects and restarts.
 *
 * Volatile card state (docs/card-reference.md §6.7): a reset or lost connection forgets the challenge and
 * every authentication. An open ceremony is then re-opened in a new epoch with a fresh
 * challenge and every custodian (also those who had approved) is asked again; answers are
 * recorded per epoch, so nothing is counted twice. A ceremony at quorum is completed instead:
 * the unlock is gone, and a new ceremony is needed.
 * @module
 */
import { assertConsistent } from '../targets/consistency';
import { toHex } from '../../shared/codec/bytes';
import type { VerificationKey } from '../../shared/cvc/verify';
import type { DecisionMessage } from '../../shared/protocol';
import { newId } from '../store/secrets';
import type { Custodian } from '../store/custodians';
import type { Store } from '../store/store';
import type { ResetReason, TargetService } from '../targets/target-service';
import {
  CeremonyContext,
  CeremonyError,
  type CeremonySnapshot,
  type CustodianLink,
} from './context';
import { handleDecision } from './decisions';
import { expire, finishOrRetry, reopen } from './lifecycle';
import { reconcileIntents } from './reconcile';
import { contained } from '../store/store-health';

/** What an operator asks for. */
export type CeremonyRequest = {
  readonly target: string;
  readonly purpose: string;
  readonly requester: string;
  /** Seconds until the ceremony expires if quorum is not reached (default from config). */
  readonly expiresInSeconds?: number;
};

/**
 * Longest ceremony: clients refuse offers expiring more than 60 minutes ahead
 * (docs/protocol.md §8 `expiry-too-far`).
 */
export const MAX_EXPIRY_SECONDS = 3600;

const RESET_TEXT: Record<ResetReason, string> = {
  'time-limit': 'unlock time limit reached; target reset',
  'signature-limit': 'signature limit reached; target reset',
  'connection-lost': 'connection to the target was lost',
  admin: 'target reset by the server',
  closed: 'server shutting down',
};

/** Drives ceremonies for all targets. */
export class CeremonyEngine {
  private readonly ctx: CeremonyContext;

  constructor(
    store: Store,
    targets: ReadonlyMap<string, TargetService>,
    link: CustodianLink,
    keyOf: (c: Custodian) => VerificationKey | undefined,
    private readonly defaults: { readonly expiresInSeconds: number },
    clock: () => Date = () => new Date(),
    monotonic: () => number = () => performance.now(),
  ) {
    this.ctx = new CeremonyContext(store, targets, link, keyOf, clock, monotonic);
    // A listener runs inside the target's queue or a timer: a store failure there is contained.
    for (const t of targets.values())
      t.onReset((reason) =>
        contained(store.health, `target ${t.name} reset (${reason})`, () =>
          this.onTargetReset(t.name, reason),
        ),
      );
  }

  /**
   * Reloads ceremonies left active by a previous run. The card's PKA state did not survive the
   * restart: expired ones are closed, ones at quorum completed, open ones re-opened with a new
   * challenge (or failed when the target cannot be reached).
   */
  async start(): Promise<void> {
    const ctx = this.ctx;
    reconcileIntents(ctx);
    for (const c of ctx.store.ceremonies.active()) {
      if (Date.parse(c.expiresAt) <= ctx.clock().getTime()) {
        ctx.finish(c.id, 'expired', 'expired while the server was down', 'ceremony-expired');
      } else if (c.state === 'quorum') {
        ctx.finish(c.id, 'completed', 'server restarted; the unlock ended', 'ceremony-completed');
      } else {
        await reopen(ctx, c.id, 'server restarted', (id) => this.armExpiry(id));
      }
    }
  }

  /** Stops all timers (the store stays open). */
  stop(): void {
    this.ctx.stopAll();
  }

  /** Subscribes to snapshots of every ceremony change; returns the unsubscribe. */
  watch(listener: (s: CeremonySnapshot) => void): () => void {
    return this.ctx.watch(listener);
  }

  /** The snapshot of one ceremony. */
  get(id: string): CeremonySnapshot | undefined {
    const c = this.ctx.store.ceremonies.get(id);
    return c && this.ctx.snapshot(c);
  }

  /** Recent ceremonies, newest first. */
  list(limit = 50): CeremonySnapshot[] {
    return this.ctx.store.ceremonies.recent(limit).map((c) => this.ctx.snapshot(c));
  }

  /**
   * Opens a ceremony: one per target at a time (the card has one challenge that all custodians
   * sign, docs/card-reference.md §6.6 "multiple custodians"). Fails when the target is not PKA-configured or
   * still misses registered keys.
   */
  async request(req: CeremonyRequest): Promise<CeremonySnapshot> {
    const ctx = this.ctx;
    const target = ctx.target(req.target);
    const seconds = req.expiresInSeconds ?? this.defaults.expiresInSeconds;
    if (!Number.isInteger(seconds) || seconds < 10 || seconds > MAX_EXPIRY_SECONDS) {
      throw new CeremonyError('invalid', `expiry must be 10 to ${MAX_EXPIRY_SECONDS} seconds`);
    }
    const id = await target.run(async (card, chain) => {
      if (ctx.activeFor(req.target)) {
        throw new CeremonyError('busy', `target ${req.target} already has an active ceremony`);
      }
      // Issue 7 item 1: a key on the card the store does not know blocks every ceremony.
      const status = await assertConsistent(ctx.store, req.target, card, ctx.clock());
      if (!status) throw new CeremonyError('not-pka', `target ${req.target} is not set up for PKA`);
      if (status.missing > 0) {
        throw new CeremonyError(
          'not-pka',
          `target ${req.target} still misses ${status.missing} of ${status.m} registered keys`,
        );
      }
      const challenge = await card.getChallenge();
      const now = ctx.clock();
      const cid = newId('cer');
      const expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
      // The ceremony and its audit entry are one transaction (issue 11 item 3).
      ctx.store.atomically(() => {
        ctx.store.ceremonies.insert({
          id: cid,
          target: req.target,
          purpose: req.purpose,
          requester: req.requester,
          state: 'open',
          createdAt: now.toISOString(),
          expiresAt,
          n: status.n,
          m: status.m,
          deviceId: chain.deviceId,
          challenge: toHex(challenge),
        });
        ctx.audit('ceremony-requested', {
          ceremonyId: cid,
          target: req.target,
          deviceId: chain.deviceId,
          purpose: req.purpose,
          requester: req.requester,
          expiresAt,
          n: status.n,
          m: status.m,
        });
      });
      ctx.setAuthenticated(cid, status.authenticated);
      return cid;
    });
    const c = ctx.store.ceremonies.get(id)!;
    this.armExpiry(id);
    ctx.offerToAll(c);
    ctx.broadcast(id, 'ceremony opened');
    return ctx.snapshot(c);
  }

  /**
   * Arms the expiry timer and the monotonic deadline the decision check uses (one time source,
   * issue 11 item 4): the remaining time is taken from the wall clock once, here.
   */
  private armExpiry(id: string): void {
    const c = this.ctx.store.ceremonies.get(id);
    if (!c) return;
    const ms = Math.max(0, Date.parse(c.expiresAt) - this.ctx.clock().getTime());
    this.ctx.armDeadline(id, ms, () => expire(this.ctx, id));
  }

  /** Cancels an active ceremony (admin); a target unlocked by it is reset. */
  async cancel(id: string, by: string): Promise<CeremonySnapshot> {
    const c = this.ctx.store.ceremonies.get(id);
    if (!c) throw new CeremonyError('not-found', `no ceremony ${id}`);
    if (c.state !== 'open' && c.state !== 'quorum') {
      throw new CeremonyError('not-active', `ceremony ${id} is already ${c.state}`);
    }
    this.ctx.finish(id, 'cancelled', `cancelled by ${by}`, 'ceremony-cancelled');
    return this.get(id)!;
  }

  /**
   * A custodian's session was authenticated: resume (docs/protocol.md §3.4) with an `update`
   * for the active ceremony, the pending offer (same offerId), and the results of decisions
   * already processed in this epoch.
   */
  custodianConnected(custodianId: string): void {
    const ctx = this.ctx;
    const cu = ctx.store.custodians.get(custodianId);
    if (!cu) return;
    const c = ctx.activeFor(cu.target);
    if (!c) return;
    ctx.link.send(custodianId, ctx.updateMessage(c));
    ctx.offerTo(c, cu);
    for (const result of ctx.resultsFor(c.id, custodianId)) ctx.link.send(custodianId, result);
  }

  /** Handles a `decision` frame of an authenticated custodian. */
  decide(custodianId: string, msg: DecisionMessage): Promise<void> {
    return handleDecision(this.ctx, custodianId, msg, (id) => this.reachedQuorum(id));
  }

  /**
   * The card counts n: the quorum and its audit entry are stored in one transaction BEFORE the
   * unlock window opens. Runs inside the target's queue. When the store cannot be written the
   * card must not stay unlocked unrecorded: it is reset (all PKA state dropped) and the
   * ceremony re-opened (issue 11 item 2).
   */
  private async reachedQuorum(id: string): Promise<void> {
    const ctx = this.ctx;
    const c = ctx.store.ceremonies.get(id);
    if (!c || c.state !== 'open') return;
    const target = ctx.target(c.target);
    const window = target.plannedWindow(id);
    try {
      ctx.store.atomically(() => {
        ctx.store.ceremonies.setState(id, 'quorum', ctx.now());
        ctx.audit('quorum', {
          ceremonyId: id,
          target: c.target,
          authenticated: ctx.authenticated(id),
          until: window.until,
          maxSignatures: window.signaturesLeft,
        });
      });
    } catch (e) {
      ctx.store.health.failed(`recording quorum of ceremony ${id}`, e);
      await target.resetHeld('admin');
      return;
    }
    ctx.clearTimer(id);
    const opened = target.markUnlocked(id);
    ctx.broadcast(id, `quorum reached; target unlocked until ${opened.until}`);
  }

  private onTargetReset(target: string, reason: ResetReason): void {
    const c = this.ctx.activeFor(target);
    if (!c) return;
    if (c.state === 'quorum') {
      // docs/protocol.md §6: the server ending the unlock completes it; losing the card fails it.
      if (reason === 'connection-lost')
        finishOrRetry(this.ctx, c.id, 'failed', RESET_TEXT[reason], 'ceremony-failed');
      else finishOrRetry(this.ctx, c.id, 'completed', RESET_TEXT[reason], 'ceremony-completed');
    } else if (reason === 'closed') {
      // Shutdown: leave it open; the next start re-opens it with a new challenge.
    } else {
      // The card forgot the challenge now: nothing more is offered or decided in this epoch
      // while the re-opening waits for the card's queue.
      this.ctx.suspend(c.id, RESET_TEXT[reason]);
      void reopen(this.ctx, c.id, RESET_TEXT[reason], (id) => this.armExpiry(id));
    }
  }
}
