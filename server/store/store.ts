/**
 * The server store: one SQLite database in the data directory holding custodians, enrollment
 * tokens, ceremonies, approvals and the audit chain.
 * @module
 */
import { AuditStore } from './audit';
import { CeremonyStore } from './ceremonies';
import { CustodianStore } from './custodians';
import { openDb, type Db } from './db';
import { EnrollmentStore } from './enrollments';
import { ConsistencyStore } from './target-consistency';

/** All tables of the server database. */
export type Store = {
  readonly db: Db;
  readonly custodians: CustodianStore;
  readonly enrollments: EnrollmentStore;
  readonly ceremonies: CeremonyStore;
  readonly audit: AuditStore;
  readonly consistency: ConsistencyStore;
  close(): void;
};

/** Opens the store at `path` (":memory:" for tests). */
export function openStore(path: string, clock: () => Date = () => new Date()): Store {
  const db = openDb(path);
  return {
    db,
    custodians: new CustodianStore(db),
    enrollments: new EnrollmentStore(db),
    ceremonies: new CeremonyStore(db),
    audit: new AuditStore(db, clock),
    consistency: new ConsistencyStore(db),
    close: () => db.close(),
  };
}
