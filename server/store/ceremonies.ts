/**
 * Ceremonies and approvals. A ceremony's `epoch` increases whenever its challenge is replaced
 * (server restart or target reset, both of which lose the card's volatile PKA state, docs/card-reference.md
 * §6.7); approvals are recorded per epoch so nothing from an old epoch is counted again.
 * @module
 */
import { stmt, type Db } from './db';

/** Lifecycle of a ceremony. */
export type CeremonyState = 'open' | 'quorum' | 'completed' | 'expired' | 'cancelled' | 'failed';

/** A stored ceremony. */
export type CeremonyRecord = {
  readonly id: string;
  readonly target: string;
  readonly purpose: string;
  readonly requester: string;
  readonly state: CeremonyState;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Keys required (n) and registered (m) at the target when requested. */
  readonly n: number;
  readonly m: number;
  /** CHR of the target's device certificate (hex of the ASCII bytes is not needed: it is ASCII). */
  readonly deviceId: string;
  /** Current challenge (hex), absent before the first and after the last. */
  readonly challenge: string | undefined;
  readonly epoch: number;
  readonly closedAt: string | undefined;
  readonly reason: string | undefined;
};

/**
 * Outcome of one custodian's answer. `pending` is the durable intent written before the
 * signature goes to the target (server/README.md "Intent before every card step"): it becomes
 * `approved` or `failed` once the card answered, and a `pending` left by a crash or a failed
 * write is resolved at the next start (the card forgot it, docs/card-reference.md §6.7).
 */
export type ApprovalOutcome = 'pending' | 'approved' | 'declined' | 'failed';

/** A recorded answer. */
export type ApprovalRecord = {
  readonly ceremonyId: string;
  readonly custodianId: string;
  readonly epoch: number;
  readonly outcome: ApprovalOutcome;
  readonly sw: string | undefined;
  readonly time: string;
};

type Row = {
  id: string;
  target: string;
  purpose: string;
  requester: string;
  state: CeremonyState;
  created_at: string;
  expires_at: string;
  n: number;
  m: number;
  device_id: string;
  challenge: string | null;
  epoch: number;
  closed_at: string | null;
  reason: string | null;
};

const fromRow = (r: Row): CeremonyRecord => ({
  id: r.id,
  target: r.target,
  purpose: r.purpose,
  requester: r.requester,
  state: r.state,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  n: r.n,
  m: r.m,
  deviceId: r.device_id,
  challenge: r.challenge ?? undefined,
  epoch: r.epoch,
  closedAt: r.closed_at ?? undefined,
  reason: r.reason ?? undefined,
});

type ApprovalRow = {
  ceremony_id: string;
  custodian_id: string;
  epoch: number;
  outcome: ApprovalOutcome;
  sw: string | null;
  time: string;
};

const approvalFromRow = (r: ApprovalRow): ApprovalRecord => ({
  ceremonyId: r.ceremony_id,
  custodianId: r.custodian_id,
  epoch: r.epoch,
  outcome: r.outcome,
  sw: r.sw ?? undefined,
  time: r.time,
});

/** Ceremony and approval table access. */
export class CeremonyStore {
  constructor(private readonly db: Db) {}

  insert(
    c: Omit<CeremonyRecord, 'closedAt' | 'reason' | 'epoch' | 'challenge'> & { challenge: string },
  ): void {
    stmt(
      this.db,
      `INSERT INTO ceremonies (id, target, purpose, requester, state, created_at, expires_at, n, m, device_id, challenge, epoch)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
    ).run(
      c.id,
      c.target,
      c.purpose,
      c.requester,
      c.state,
      c.createdAt,
      c.expiresAt,
      c.n,
      c.m,
      c.deviceId,
      c.challenge,
    );
  }

  get(id: string): CeremonyRecord | undefined {
    const r = stmt(this.db, 'SELECT * FROM ceremonies WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** Ceremonies still open or at quorum (reloaded at start). */
  active(): CeremonyRecord[] {
    const rows = stmt(
      this.db,
      "SELECT * FROM ceremonies WHERE state IN ('open', 'quorum') ORDER BY created_at",
    ).all() as Row[];
    return rows.map(fromRow);
  }

  /** Most recent ceremonies, newest first. */
  recent(limit: number): CeremonyRecord[] {
    const rows = stmt(this.db, 'SELECT * FROM ceremonies ORDER BY created_at DESC, id LIMIT ?').all(
      limit,
    ) as Row[];
    return rows.map(fromRow);
  }

  /** Moves to a new state; a final state clears the challenge and records why. */
  setState(id: string, state: CeremonyState, at: string, reason?: string): void {
    const final = state !== 'open' && state !== 'quorum';
    stmt(
      this.db,
      `UPDATE ceremonies SET state = ?, closed_at = ?, reason = ?,
           challenge = CASE WHEN ? THEN NULL ELSE challenge END WHERE id = ?`,
    ).run(state, final ? at : null, reason ?? null, final ? 1 : 0, id);
  }

  /** Starts a new epoch with a fresh challenge (the card forgot the old one); state back to open. */
  newEpoch(id: string, challenge: string): number {
    stmt(
      this.db,
      "UPDATE ceremonies SET epoch = epoch + 1, challenge = ?, state = 'open' WHERE id = ?",
    ).run(challenge, id);
    return this.get(id)!.epoch;
  }

  /**
   * Records a custodian's answer for the current epoch. Returns false (and records nothing)
   * when the custodian already answered in that epoch: a custodian counts once.
   */
  recordApproval(a: ApprovalRecord): boolean {
    const info = stmt(
      this.db,
      `INSERT OR IGNORE INTO approvals (ceremony_id, custodian_id, epoch, outcome, sw, time)
         VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(a.ceremonyId, a.custodianId, a.epoch, a.outcome, a.sw ?? null, a.time);
    return info.changes === 1;
  }

  /**
   * Records the intent to present a custodian's signature to the target (outcome `pending`).
   * Returns false when the custodian already answered in this epoch.
   */
  recordIntent(a: Omit<ApprovalRecord, 'outcome' | 'sw'>): boolean {
    const info = stmt(
      this.db,
      `INSERT INTO approvals (ceremony_id, custodian_id, epoch, outcome, sw, time)
         VALUES (?, ?, ?, 'pending', NULL, ?) ON CONFLICT DO NOTHING`,
    ).run(a.ceremonyId, a.custodianId, a.epoch, a.time);
    return info.changes === 1;
  }

  /** Resolves a pending intent to the card's answer; false when there was none pending. */
  resolveIntent(
    a: Pick<ApprovalRecord, 'ceremonyId' | 'custodianId' | 'epoch' | 'time' | 'sw'> & {
      outcome: 'approved' | 'failed';
    },
  ): boolean {
    const info = stmt(
      this.db,
      `UPDATE approvals SET outcome = ?, sw = ?, time = ?
         WHERE ceremony_id = ? AND custodian_id = ? AND epoch = ? AND outcome = 'pending'`,
    ).run(a.outcome, a.sw ?? null, a.time, a.ceremonyId, a.custodianId, a.epoch);
    return info.changes === 1;
  }

  /** Every intent still pending (reconciled at start). */
  pendingIntents(): ApprovalRecord[] {
    const rows = stmt(
      this.db,
      "SELECT * FROM approvals WHERE outcome = 'pending' ORDER BY time",
    ).all() as ApprovalRow[];
    return rows.map(approvalFromRow);
  }

  /** Answers of a ceremony in one epoch (all epochs when omitted). */
  approvals(ceremonyId: string, epoch?: number): ApprovalRecord[] {
    const rows = (
      epoch === undefined
        ? stmt(this.db, 'SELECT * FROM approvals WHERE ceremony_id = ? ORDER BY time').all(
            ceremonyId,
          )
        : stmt(
            this.db,
            'SELECT * FROM approvals WHERE ceremony_id = ? AND epoch = ? ORDER BY time',
          ).all(ceremonyId, epoch)
    ) as ApprovalRow[];
    return rows.map(approvalFromRow);
  }
}
