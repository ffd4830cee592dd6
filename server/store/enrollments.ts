/**
 * Enrollment tokens: single-use, expiring invitations for one custodian name at one target.
 * @module
 */
import { stmt, type Db } from './db';

/** An enrollment token as stored (the token itself is never stored, only its hash). */
export type EnrollmentToken = {
  readonly tokenHash: string;
  readonly target: string;
  readonly name: string;
  /** Set when the key was registered by the admin (`enroll pka`) before the custodian connects. */
  readonly custodianId: string | undefined;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | undefined;
};

type Row = {
  token_hash: string;
  target: string;
  name: string;
  custodian_id: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
};

const fromRow = (r: Row): EnrollmentToken => ({
  tokenHash: r.token_hash,
  target: r.target,
  name: r.name,
  custodianId: r.custodian_id ?? undefined,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at ?? undefined,
});

/** Enrollment token table access. */
export class EnrollmentStore {
  constructor(private readonly db: Db) {}

  insert(t: {
    tokenHash: string;
    target: string;
    name: string;
    custodianId?: string;
    createdAt: string;
    expiresAt: string;
  }): void {
    stmt(
      this.db,
      `INSERT INTO enrollment_tokens (token_hash, target, name, custodian_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(t.tokenHash, t.target, t.name, t.custodianId ?? null, t.createdAt, t.expiresAt);
  }

  get(tokenHash: string): EnrollmentToken | undefined {
    const r = stmt(this.db, 'SELECT * FROM enrollment_tokens WHERE token_hash = ?').get(
      tokenHash,
    ) as Row | undefined;
    return r && fromRow(r);
  }

  /**
   * Marks a token used. Returns false when it was already used (a concurrent enrollment with
   * the same token loses).
   */
  markUsed(tokenHash: string, at: string): boolean {
    const info = stmt(
      this.db,
      'UPDATE enrollment_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL',
    ).run(at, tokenHash);
    return info.changes === 1;
  }

  /**
   * Consumes a token atomically: one statement sets `used_at` only if the token is still
   * unused and unexpired, so of two concurrent enrollments with one token exactly one gets it
   * (issue 7 item 1). This happens before any APDU goes to the target; a failure that provably
   * left the card untouched gives the token back with {@link release}.
   */
  reserve(tokenHash: string, at: string): 'reserved' | 'used' | 'expired' | 'unknown' {
    const row = stmt(
      this.db,
      `UPDATE enrollment_tokens SET used_at = ?
         WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING token_hash`,
    ).get(at, tokenHash, at);
    if (row !== undefined) return 'reserved';
    const t = this.get(tokenHash);
    if (!t) return 'unknown';
    return t.usedAt !== undefined ? 'used' : 'expired';
  }

  /** Gives back a token consumed by {@link reserve} at `at` (nothing reached the card). */
  release(tokenHash: string, at: string): void {
    stmt(
      this.db,
      'UPDATE enrollment_tokens SET used_at = NULL WHERE token_hash = ? AND used_at = ?',
    ).run(tokenHash, at);
  }

  /** Open (unused, unexpired) tokens of a target. */
  open(target: string, now: string): EnrollmentToken[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM enrollment_tokens WHERE target = ? AND used_at IS NULL AND expires_at > ? ORDER BY created_at',
    ).all(target, now) as Row[];
    return rows.map(fromRow);
  }
}
