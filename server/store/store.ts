/**
 * The server store: one SQLite database in the data directory holding custodians, enrollment
 * tokens, ceremonies, approvals and the audit chain, plus the health of its writes.
 * @module
 */
import { AuditStore } from './audit';
import { CeremonyStore } from './ceremonies';
import { CustodianStore } from './custodians';
import { openDb, type Db } from './db';
import { EnrollmentStore } from './enrollments';
import { GroupCommitter, sqliteCommitPort } from './group-commit';
import { StoreHealth } from './store-health';
import { ConsistencyStore } from './target-consistency';

/** All tables of the server database. */
export type Store = {
  readonly db: Db;
  readonly custodians: CustodianStore;
  readonly enrollments: EnrollmentStore;
  readonly ceremonies: CeremonyStore;
  readonly audit: AuditStore;
  /** Whether writes currently work (reported by `/api/health`). */
  readonly health: StoreHealth;
  /**
   * Runs `fn` as ONE write transaction (BEGIN IMMEDIATE): a state change and its audit entry
   * are stored together or not at all (a crash or a failed write leaves neither). A failure is
   * rethrown — the caller decides what the failed operation means — and a success marks the
   * store healthy again.
   */
  atomically<T>(fn: () => T): T;
  /**
   * Runs `fn` as its own savepoint in the write transaction shared by every `durably` call of
   * this event-loop turn, and resolves once that transaction is committed (one fsync for the
   * group, group-commit.ts). Rejects when `fn` throws (its writes undone) or when the group
   * cannot be stored (nothing of it stored). Answer only after it resolves.
   */
  durably<T>(fn: () => T): Promise<T>;
  readonly consistency: ConsistencyStore;
  close(): void;
};

/** Opens the store at `path` (":memory:" for tests). */
export function openStore(path: string, clock: () => Date = () => new Date()): Store {
  const db = openDb(path);
  const health = new StoreHealth(clock);
  const group = new GroupCommitter(sqliteCommitPort(db), undefined, () => health.succeeded());
  return {
    db,
    custodians: new CustodianStore(db),
    enrollments: new EnrollmentStore(db),
    ceremonies: new CeremonyStore(db),
    audit: new AuditStore(db, clock, health),
    health,
    atomically<T>(fn: () => T): T {
      const result = db.transaction(fn).immediate();
      health.succeeded();
      return result;
    },
    durably: (fn) => group.durably(fn),
    consistency: new ConsistencyStore(db),
    close: () => db.close(),
  };
}
