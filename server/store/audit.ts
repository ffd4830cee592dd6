/**
 * The server audit trail: an append-only, hash-chained table using the same chain construction
 * as the custodian's log (shared/audit/audit-chain.ts: SHA-256 over canonical JSON, each entry
 * naming its predecessor's hash), with server event names.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJson, GENESIS_HASH, type AuditData } from '../../shared/audit/audit-chain';
import { toHex } from '../../shared/codec/bytes';
import { err, ok, type Result } from '../../shared/result';
import { stmt, type Db } from './db';
import type { StoreHealth } from './store-health';

/** Server audit events. */
export type ServerAuditEvent =
  | 'server-start'
  | 'target-initialized'
  | 'custodian-registered'
  | 'enrollment-token-created'
  | 'enrollment-completed'
  | 'enrollment-refused'
  | 'custodian-connected'
  | 'custodian-disconnected'
  | 'auth-refused'
  | 'ceremony-requested'
  | 'ceremony-reopened'
  | 'approval'
  | 'approval-failed'
  | 'decline'
  | 'quorum'
  | 'ceremony-expired'
  | 'ceremony-cancelled'
  | 'ceremony-failed'
  | 'ceremony-completed'
  | 'approval-intent'
  | 'approval-unresolved'
  | 'sign-intent'
  | 'signed'
  | 'sign-refused'
  | 'sign-unresolved'
  | 'keygen-intent'
  | 'key-generated'
  | 'keygen-refused'
  | 'keygen-unresolved'
  | 'target-init-intent'
  | 'target-init-refused'
  | 'target-init-unresolved'
  | 'target-reset'
  | 'target-inconsistent'
  | 'target-reconciled'
  | 'target-inconsistency-acknowledged'
  | 'pkcs11-client-created'
  | 'pkcs11-client-revoked'
  | 'pkcs11-login'
  | 'pkcs11-refused';

/** One audit row. */
export type ServerAuditEntry = {
  readonly seq: number;
  readonly time: string;
  readonly event: ServerAuditEvent;
  readonly data: AuditData;
  readonly prev: string;
  readonly hash: string;
};

/** Hash of an entry's content (everything but `hash`). */
export function serverEntryHash(e: Omit<ServerAuditEntry, 'hash'>): string {
  const body = { seq: e.seq, time: e.time, kind: e.event, data: e.data, prev: e.prev };
  return toHex(sha256(new TextEncoder().encode(canonicalJson(body))));
}

type Row = { seq: number; time: string; event: string; data: string; prev: string; hash: string };

const fromRow = (r: Row): ServerAuditEntry => ({
  seq: r.seq,
  time: r.time,
  event: r.event as ServerAuditEvent,
  data: JSON.parse(r.data) as AuditData,
  prev: r.prev,
  hash: r.hash,
});

/** Audit table access. */
export class AuditStore {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date,
    private readonly health?: StoreHealth,
  ) {}

  /**
   * Appends an entry chained to the current head (in one transaction; inside
   * `Store.atomically` it joins that transaction). Throws when the store cannot be written.
   */
  append(event: ServerAuditEvent, data: AuditData): ServerAuditEntry {
    const run = this.db.transaction(() => {
      const head = stmt(this.db, 'SELECT * FROM audit ORDER BY seq DESC LIMIT 1').get() as
        Row | undefined;
      const body = {
        seq: head ? head.seq + 1 : 1,
        time: this.clock().toISOString(),
        event,
        data,
        prev: head ? head.hash : GENESIS_HASH,
      };
      const entry = { ...body, hash: serverEntryHash(body) };
      stmt(
        this.db,
        'INSERT INTO audit (seq, time, event, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(entry.seq, entry.time, entry.event, canonicalJson(entry.data), entry.prev, entry.hash);
      return entry;
    });
    const entry = run.immediate();
    this.health?.succeeded();
    return entry;
  }

  /**
   * `intent` entries whose `idField` no later entry of the `outcomes` events names: card steps
   * a crash interrupted (audit-intents.ts).
   */
  unresolvedIntents(
    intent: ServerAuditEvent,
    outcomes: readonly ServerAuditEvent[],
    idField: string,
  ): ServerAuditEntry[] {
    const path = `$.${idField}`;
    const rows = stmt(
      this.db,
      `SELECT * FROM audit WHERE event = ? AND json_extract(data, ?) NOT IN (
           SELECT json_extract(data, ?) FROM audit
           WHERE event IN (SELECT value FROM json_each(?)) AND json_extract(data, ?) IS NOT NULL)
         ORDER BY seq`,
    ).all(intent, path, path, JSON.stringify(outcomes), path) as Row[];
    return rows.map(fromRow);
  }

  /** The last `limit` entries, oldest first. */
  tail(limit: number): ServerAuditEntry[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq',
    ).all(limit) as Row[];
    return rows.map(fromRow);
  }

  /** Verifies the whole chain; returns the entry count and head hash, or the first bad seq. */
  verify(): Result<{ entries: number; head: string }, { seq: number; message: string }> {
    let prev = GENESIS_HASH;
    let expected = 1;
    for (const row of this.db
      .prepare('SELECT * FROM audit ORDER BY seq')
      .iterate() as Iterable<Row>) {
      let e: ServerAuditEntry;
      try {
        e = fromRow(row);
      } catch {
        return err({ seq: row.seq, message: `audit entry ${row.seq} has unreadable data` });
      }
      if (e.seq !== expected)
        return err({ seq: e.seq, message: `audit entry ${expected} missing` });
      if (e.prev !== prev)
        return err({ seq: e.seq, message: `audit entry ${e.seq} does not follow its predecessor` });
      if (serverEntryHash(e) !== e.hash)
        return err({ seq: e.seq, message: `audit entry ${e.seq} was modified` });
      prev = e.hash;
      expected++;
    }
    return ok({ entries: expected - 1, head: prev });
  }
}
