/**
 * Shared state of the ceremony engine: the store, the targets, the link to connected
 * custodians, and the helpers that keep custodians and admins informed, on top of the
 * per-ceremony runtime (runtime-state.ts).
 * @module
 */
import type { VerificationKey } from '../../shared/cvc/verify';
import { PROTOCOL_VERSION, type Progress, type ServerMessage } from '../../shared/protocol';
import type { AuditData } from '../../shared/audit/audit-chain';
import type { ApprovalOutcome, CeremonyRecord, CeremonyState } from '../store/ceremonies';
import type { Custodian } from '../store/custodians';
import type { Store } from '../store/store';
import type { ServerAuditEvent } from '../store/audit';
import type { TargetService } from '../targets/target-service';
import type { UnlockWindow } from '../targets/unlock-window';
import { buildOffer } from './offers';
import { ProgressCoalescer } from './progress-coalescer';
import { CeremonyRuntime } from './runtime-state';

/** How the engine reaches connected custodians (implemented by the WebSocket hub). */
export type CustodianLink = {
  /** Sends a message; false when the custodian is not connected. */
  send(custodianId: string, message: ServerMessage): boolean;
  /** Sends one message to each connected custodian of `custodianIds` (encoded once); optional. */
  sendToAll?(custodianIds: Iterable<string>, message: ServerMessage): void;
  isConnected(custodianId: string): boolean;
};

/** Why a ceremony operation was refused. */
export class CeremonyError extends Error {
  override readonly name = 'CeremonyError';
  constructor(
    readonly code: 'unknown-target' | 'busy' | 'not-pka' | 'not-found' | 'not-active' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/** One custodian's answer as admins see it. */
export type AnswerView = {
  readonly custodian: string;
  readonly outcome: ApprovalOutcome;
  readonly sw: string | undefined;
  readonly time: string;
};

/** A ceremony as admins see it. */
export type CeremonySnapshot = {
  readonly id: string;
  readonly target: string;
  readonly deviceId: string;
  readonly purpose: string;
  readonly requester: string;
  readonly state: CeremonyState;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly quorum: { readonly n: number; readonly m: number };
  readonly epoch: number;
  readonly progress: Progress;
  readonly answers: readonly AnswerView[];
  readonly reason: string | undefined;
  readonly unlocked: UnlockWindow | undefined;
};

/**
 * Engine state and helpers shared by the engine, the decision handler and the lifecycle steps.
 * The per-ceremony runtime state is private to {@link CeremonyRuntime}: it changes only
 * through its methods.
 */
export class CeremonyContext extends CeremonyRuntime {
  private readonly watchers = new Set<(s: CeremonySnapshot) => void>();

  constructor(
    readonly store: Store,
    readonly targets: ReadonlyMap<string, TargetService>,
    readonly link: CustodianLink,
    /** The verification key of a custodian's registered key (from the stored .pka). */
    readonly keyOf: (c: Custodian) => VerificationKey | undefined,
    readonly clock: () => Date,
    /** Monotonic milliseconds (expiry decisions). */
    monotonic: () => number = () => performance.now(),
  ) {
    super(monotonic);
  }

  /**
   * Whether the ceremony's time is up, decided on the monotonic clock from the deadline its
   * expiry timer was armed with (falls back to the recorded wall-clock expiry before that).
   */
  pastDeadline(c: CeremonyRecord): boolean {
    const deadline = this.deadlineOf(c.id);
    if (deadline !== undefined) return this.monotonic() >= deadline;
    return Date.parse(c.expiresAt) <= this.clock().getTime();
  }

  now(): string {
    return this.clock().toISOString();
  }

  audit(event: ServerAuditEvent, data: AuditData): void {
    this.store.audit.append(event, data);
  }

  target(name: string): TargetService {
    const t = this.targets.get(name);
    if (!t) throw new CeremonyError('unknown-target', `unknown target "${name}"`);
    return t;
  }

  /** Subscribes to snapshots of every ceremony change; returns the unsubscribe. */
  watch(listener: (s: CeremonySnapshot) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Whether the custodian answered (or is answering) in the ceremony's current epoch. */
  hasAnswered(c: CeremonyRecord, custodianId: string): boolean {
    return this.store.ceremonies
      .approvals(c.id, c.epoch)
      .some((a) => a.custodianId === custodianId);
  }

  /**
   * Fails the ceremony when the custodians who have not answered in this epoch can no longer
   * bring the card's count to n (only enrolled custodians receive offers).
   */
  failIfHopeless(c: CeremonyRecord): void {
    const answered = new Set(
      this.store.ceremonies.approvals(c.id, c.epoch).map((a) => a.custodianId),
    );
    const open = this.store.custodians
      .forTarget(c.target)
      .filter((x) => !answered.has(x.id)).length;
    if (this.authenticated(c.id) + open < c.n) {
      try {
        this.finish(c.id, 'failed', 'quorum can no longer be reached', 'ceremony-failed');
      } catch (e) {
        // Not stored: the ceremony stays open until it expires; nothing the card holds changed.
        this.store.health.failed(`recording ceremony ${c.id} as failed`, e);
      }
    }
  }

  /** The active ceremony of a target (at most one: the card has one challenge, docs/card-reference.md §6.6). */
  activeFor(target: string): CeremonyRecord | undefined {
    return this.store.ceremonies.active().find((c) => c.target === target);
  }

  progress(c: CeremonyRecord): Progress {
    const approvedBy = this.store.ceremonies
      .approvals(c.id, c.epoch)
      .filter((a) => a.outcome === 'approved')
      .map((a) => this.store.custodians.get(a.custodianId)?.name ?? a.custodianId);
    return { authenticated: this.authenticated(c.id), approvedBy };
  }

  snapshot(c: CeremonyRecord): CeremonySnapshot {
    const t = this.targets.get(c.target);
    const unlocked = t?.unlocked;
    return {
      id: c.id,
      target: c.target,
      deviceId: c.deviceId,
      purpose: c.purpose,
      requester: c.requester,
      state: c.state,
      createdAt: c.createdAt,
      expiresAt: c.expiresAt,
      quorum: { n: c.n, m: c.m },
      epoch: c.epoch,
      progress: this.progress(c),
      answers: this.store.ceremonies.approvals(c.id, c.epoch).map((a) => ({
        custodian: this.store.custodians.get(a.custodianId)?.name ?? a.custodianId,
        outcome: a.outcome,
        sw: a.sw,
        time: a.time,
      })),
      reason: c.reason,
      unlocked: unlocked && unlocked.ceremonyId === c.id ? unlocked : undefined,
    };
  }

  /** The `update` message describing a ceremony now. */
  updateMessage(c: CeremonyRecord, message?: string): ServerMessage {
    return {
      v: PROTOCOL_VERSION,
      type: 'update',
      ceremonyId: c.id,
      state: c.state,
      progress: this.progress(c),
      ...(message === undefined ? {} : { message: message.slice(0, 500) }),
    };
  }

  /** Progress within an open ceremony's epoch goes out once per turn; phase changes at once. */
  private readonly coalescer = new ProgressCoalescer({
    send: (id, message) => this.broadcastNow(id, message),
    phase: (id) => {
      const c = this.store.ceremonies.get(id);
      // The approval that completes the quorum goes out at once, before the quorum update, as
      // the last progress of the open ceremony (clients show approvals from it).
      return (
        c && {
          key: `${c.state}/${c.epoch}`,
          open: c.state === 'open' && this.authenticated(id) < c.n,
        }
      );
    },
    failed: (id, e) => this.store.health.report(`broadcasting ceremony ${id}`, e),
  });

  /**
   * Tells every custodian of the target and every admin watcher about the ceremony's state:
   * progress within an open ceremony's epoch once at the end of this event-loop turn, with the
   * state then (however many changes the turn made, progress-coalescer.ts); an opening,
   * re-opening, quorum or end at once. The ONE place progress is broadcast.
   */
  broadcast(id: string, message?: string): void {
    this.coalescer.post(id, message);
  }

  private broadcastNow(id: string, message: string | undefined): void {
    const c = this.store.ceremonies.get(id);
    if (!c) return;
    const update = this.updateMessage(c, message);
    const ids = this.store.custodians.forTarget(c.target).map((cu) => cu.id);
    // One encoding for all recipients: under load this is the server's busiest path.
    if (this.link.sendToAll) this.link.sendToAll(ids, update);
    else for (const id of ids) this.link.send(id, update);
    if (this.watchers.size === 0) return;
    const snap = this.snapshot(c);
    for (const w of this.watchers) {
      try {
        w(snap);
      } catch {
        // A failing watcher must not stop the others.
      }
    }
  }

  /** Sends the current offer to one custodian if the ceremony is open and they have not answered. */
  offerTo(c: CeremonyRecord, custodian: Custodian): boolean {
    if (c.state !== 'open' || c.challenge === undefined || custodian.keyId === undefined)
      return false;
    if (this.isSuspended(c.id)) return false;
    if (!this.link.isConnected(custodian.id)) return false;
    const answered = this.store.ceremonies
      .approvals(c.id, c.epoch)
      .some((a) => a.custodianId === custodian.id);
    if (answered) return false;
    const t = this.target(c.target);
    const chain = t.chain;
    if (!chain) return false;
    const offerId = this.offerIdFor(c.id, custodian.id);
    const offer = buildOffer({
      ceremony: c,
      offerId,
      custodian: { ...custodian, keyId: custodian.keyId },
      chain,
      targetLabel: t.label,
      progress: this.progress(c),
      custodians: this.store.custodians.forTarget(c.target),
    });
    return this.link.send(custodian.id, offer);
  }

  /** Pushes the current offer to every connected custodian of the ceremony's target. */
  offerToAll(c: CeremonyRecord): void {
    for (const cu of this.store.custodians.forTarget(c.target)) this.offerTo(c, cu);
  }

  /**
   * Moves a ceremony to a final state (state and audit entry in one transaction), stops its
   * timer, and resets the target when the card may hold authentications of it (so nothing
   * stays unlocked for a closed ceremony). Throws, changing nothing, when the store cannot be
   * written.
   */
  finish(id: string, state: CeremonyState, reason: string, event: ServerAuditEvent): void {
    const c = this.store.ceremonies.get(id);
    if (!c || (c.state !== 'open' && c.state !== 'quorum')) return;
    this.store.atomically(() => {
      this.store.ceremonies.setState(id, state, this.now(), reason);
      this.audit(event, { ceremonyId: id, target: c.target, reason });
    });
    const authenticated = this.forget(id);
    this.broadcast(id, reason);
    const t = this.targets.get(c.target);
    const cardHoldsAuth = authenticated > 0 || c.state === 'quorum';
    if (t && cardHoldsAuth && state !== 'completed') void t.lock('admin').catch(() => undefined);
  }
}
