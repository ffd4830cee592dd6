/**
 * The server database: SQLite through better-sqlite3, WAL journal, schema migrations recorded
 * in a version table. Every statement is synchronous, so one JS turn sees a consistent state.
 * @module
 */
import Database from 'better-sqlite3';

/** An open database handle. */
export type Db = Database.Database;

type StatementCache = { prepare: Db['prepare']; bySql: Map<string, Database.Statement> };
const statements = new WeakMap<Db, StatementCache>();

/**
 * `db.prepare(sql)`, compiled once per database and reused: preparing is most of the cost of a
 * point query, and the decision path runs a handful per approval (docs/benchmarks.md, load
 * stage). Only for statements run to completion (`get`/`all`/`run`); one that is iterated
 * stays a fresh `db.prepare`, since a cached statement cannot be used while an iteration of it
 * is open. If `db.prepare` is replaced later (a wrapper that injects faults, in tests), the
 * cache starts again, so every statement goes through the wrapper.
 */
export function stmt(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (cache?.prepare !== db.prepare) {
    cache = { prepare: db.prepare, bySql: new Map() };
    statements.set(db, cache);
  }
  let s = cache.bySql.get(sql);
  if (!s) cache.bySql.set(sql, (s = db.prepare(sql)));
  return s;
}

/**
 * Schema migrations, applied in order; index + 1 is the schema version. Never edit a shipped
 * migration: append a new one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE custodians (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    target TEXT NOT NULL,
    key_chr TEXT NOT NULL,
    key_id INTEGER,
    pka BLOB NOT NULL,
    credential_hash TEXT UNIQUE,
    enrolled_at TEXT NOT NULL,
    UNIQUE (target, key_chr),
    UNIQUE (target, name)
  );
  CREATE TABLE enrollment_tokens (
    token_hash TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    name TEXT NOT NULL,
    custodian_id TEXT REFERENCES custodians(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
  );
  CREATE TABLE ceremonies (
    id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    purpose TEXT NOT NULL,
    requester TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    n INTEGER NOT NULL,
    m INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    challenge TEXT,
    epoch INTEGER NOT NULL DEFAULT 1,
    closed_at TEXT,
    reason TEXT
  );
  CREATE INDEX ceremonies_state ON ceremonies (state);
  CREATE TABLE approvals (
    ceremony_id TEXT NOT NULL REFERENCES ceremonies(id),
    custodian_id TEXT NOT NULL REFERENCES custodians(id),
    epoch INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    sw TEXT,
    time TEXT NOT NULL,
    PRIMARY KEY (ceremony_id, custodian_id, epoch)
  );
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  `,
  // 2: a durable flag per target whose card and store disagree about registered PKA keys
  // (issue 7 item 1); ceremonies and enrollments there wait for an operator.
  `
  CREATE TABLE target_consistency (
    target TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('inconsistent', 'acknowledged')),
    detail TEXT NOT NULL,
    since TEXT NOT NULL,
    registered_on_card INTEGER,
    known_to_server INTEGER NOT NULL,
    unknown_keys TEXT
  );
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * How long a statement waits for a lock held by another connection. Every statement runs on
 * the event loop, so a long wait would freeze the whole server (custodian sockets, timers,
 * the admin API); the server is the only writer, so a lock is an outside tool or a restore in
 * progress and the write fails fast and is contained instead (store-health.ts).
 */
export const BUSY_TIMEOUT_MS = 100;

/** Why a database cannot be used. */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
}

/**
 * The schema version recorded in `db`: 0 for a new database. A version table with more than one
 * row (or a non-integer version) is damaged or foreign: it is refused, never rewritten.
 */
export function schemaVersionOf(db: Db, path: string): number {
  const table = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (table === undefined) return 0;
  const rows = db.prepare('SELECT version FROM schema_version').all() as { version: unknown }[];
  if (rows.length === 0) return 0;
  const v = rows[0]!.version;
  if (rows.length > 1 || typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new DatabaseError(
      `database ${path} has a damaged schema_version table (${rows.length} rows); refusing to use or change it`,
    );
  }
  return v;
}

/**
 * Opens (creating if needed) the database at `path` (":memory:" for tests) and migrates it.
 * A database written by a newer version, or with a damaged version table, is refused rather
 * than misread or overwritten.
 */
export function openDb(path: string): Db {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const current = schemaVersionOf(db, path);
    if (current > SCHEMA_VERSION) {
      throw new DatabaseError(
        `database ${path} has schema version ${current}; this server supports up to ${SCHEMA_VERSION}`,
      );
    }
    const migrate = db.transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
      if (current === 0) {
        db.prepare('DELETE FROM schema_version').run();
        db.prepare('INSERT INTO schema_version VALUES (?)').run(SCHEMA_VERSION);
      } else if (current < SCHEMA_VERSION) {
        db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
      }
    });
    migrate.immediate();
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
