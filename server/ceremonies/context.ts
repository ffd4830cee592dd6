/**
 * Shared state of the ceremony engine: the store, the targets, the link to connected
 * custodians, per-ceremony runtime (offers, the card's authenticated count) and the helpers
 * that keep custodians and admins informed.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { VerificationKey } from '../../shared/cvc/verify';
import {
  PROTOCOL_VERSION,
  type Progress,
  type ResultMessage,
  type ServerMessage,
} from '../../shared/protocol';
import type { AuditData } from '../../shared/audit/audit-chain';
import type { ApprovalOutcome, CeremonyRecord, CeremonyState } from '../store/ceremonies';
import type { Custodian } from '../store/custodians';
import type { Store } from '../store/store';
import type { ServerAuditEvent } from '../store/audit';
import type { TargetService, UnlockWindow } from '../targets/target-service';
import { buildOffer } from './offers';
import { ProgressCoalescer } from './progress-coalescer';

/** How the engine reaches connected custodians (implemented by the WebSocket hub). */
export type CustodianLink = {
  /** Sends a message; false when the custodian is not connected. */
  send(custodianId: string, message: ServerMessage): boolean;
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

/** In-memory runtime of an active ceremony. */
export type Runtime = {
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
  readonly decided: Map<
    string,
    { readonly decision: string; readonly result: ResultMessage | undefined }
  >;
};

/** Shared engine state and helpers. */
export class CeremonyContext {
  readonly runtime = new Map<string, Runtime>();
  readonly watchers = new Set<(s: CeremonySnapshot) => void>();

  constructor(
    readonly store: Store,
    readonly targets: ReadonlyMap<string, TargetService>,
    readonly link: CustodianLink,
    /** The verification key of a custodian's registered key (from the stored .pka). */
    readonly keyOf: (c: Custodian) => VerificationKey | undefined,
    readonly clock: () => Date,
    /** Monotonic milliseconds (expiry decisions). */
    readonly monotonic: () => number = () => performance.now(),
  ) {}

  /**
   * Whether the ceremony's time is up, decided on the monotonic clock from the deadline its
   * expiry timer was armed with (falls back to the recorded wall-clock expiry before that).
   */
  pastDeadline(c: CeremonyRecord): boolean {
    const deadline = this.runtime.get(c.id)?.deadline;
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

  runtimeOf(id: string): Runtime {
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

  /** The active ceremony of a target (at most one: the card has one challenge, docs/card-reference.md §6.6). */
  activeFor(target: string): CeremonyRecord | undefined {
    return this.store.ceremonies.active().find((c) => c.target === target);
  }

  progress(c: CeremonyRecord): Progress {
    const rt = this.runtime.get(c.id);
    const approvedBy = this.store.ceremonies
      .approvals(c.id, c.epoch)
      .filter((a) => a.outcome === 'approved')
      .map((a) => this.store.custodians.get(a.custodianId)?.name ?? a.custodianId);
    return { authenticated: rt?.authenticated ?? 0, approvedBy };
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
      return c && { key: `${c.state}/${c.epoch}`, open: c.state === 'open' };
    },
    failed: (id, e) => this.store.health.report(`broadcasting ceremony ${id}`, e),
  });

  /**
   * Tells every custodian of the target and every admin watcher about the ceremony's state:
   * progress within an open ceremony's epoch once at the end of this event-loop turn, with the
   * state then (however many changes the turn made, progress-coalescer.ts); an opening,
   * re-opening, quorum or end at once.
   */
  broadcast(id: string, message?: string): void {
    this.coalescer.post(id, message);
  }

  private broadcastNow(id: string, message: string | undefined): void {
    const c = this.store.ceremonies.get(id);
    if (!c) return;
    const update = this.updateMessage(c, message);
    for (const cu of this.store.custodians.forTarget(c.target)) this.link.send(cu.id, update);
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
    if (this.runtime.get(c.id)?.suspended !== undefined) return false;
    if (!this.link.isConnected(custodian.id)) return false;
    const answered = this.store.ceremonies
      .approvals(c.id, c.epoch)
      .some((a) => a.custodianId === custodian.id);
    if (answered) return false;
    const t = this.target(c.target);
    const chain = t.chain;
    if (!chain) return false;
    const rt = this.runtimeOf(c.id);
    let offerId = rt.byCustodian.get(custodian.id);
    if (offerId === undefined) {
      offerId = `o-${randomBytes(12).toString('hex')}`;
      rt.byCustodian.set(custodian.id, offerId);
      rt.offers.set(offerId, custodian.id);
    }
    const offer = buildOffer({
      ceremony: c,
      offerId,
      custodian: { ...custodian, keyId: custodian.keyId },
      chain,
      targetLabel: t.label,
      progress: this.progress(c),
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
    const rt = this.runtime.get(id);
    if (rt?.timer) clearTimeout(rt.timer);
    this.runtime.delete(id);
    this.broadcast(id, reason);
    const t = this.targets.get(c.target);
    const cardHoldsAuth = (rt?.authenticated ?? 0) > 0 || c.state === 'quorum';
    if (t && cardHoldsAuth && state !== 'completed') void t.lock('admin').catch(() => undefined);
  }
}
