/**
 * Online backup and restore of the server database (server/README.md "Backups"). A copy of
 * `custodian.db` taken with `cp` while the server runs misses everything still in the WAL; the
 * SQLite online backup API reads one consistent snapshot through a separate connection while
 * the server keeps writing. Every backup is verified before it is kept, and every restore
 * verifies the backup before it replaces anything: one schema version row of a version this
 * server reads, `integrity_check` ok, an intact audit chain.
 * @module
 */
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { err, ok, type Result } from '../../shared/result';
import { messageOf } from '../../shared/error-message';
import { AuditStore } from './audit';
import { DatabaseError, SCHEMA_VERSION, schemaVersionOf } from './db';

/** What a verified database holds. */
export type BackupSummary = {
  readonly schemaVersion: number;
  readonly custodians: number;
  readonly ceremonies: number;
  readonly auditEntries: number;
  /** Hash of the last audit entry (the chain head). */
  readonly auditHead: string;
};

const count = (db: Database.Database, table: string): number =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

/** Verifies a database file without changing it. */
export function verifyDatabase(path: string): Result<BackupSummary, string> {
  if (!existsSync(path)) return err(`${path} does not exist`);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    return err(`${path} is not a readable SQLite database: ${messageOf(e)}`);
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') return err(`${path} fails the integrity check: ${String(integrity)}`);
    const version = schemaVersionOf(db, path);
    if (version === 0) return err(`${path} is not a custodian-server database (no schema version)`);
    if (version > SCHEMA_VERSION)
      return err(
        `${path} has schema version ${version}; this server reads up to ${SCHEMA_VERSION}`,
      );
    const chain = new AuditStore(db, () => new Date()).verify();
    if (!chain.ok) return err(`${path}: audit chain broken: ${chain.error.message}`);
    return ok({
      schemaVersion: version,
      custodians: count(db, 'custodians'),
      ceremonies: count(db, 'ceremonies'),
      auditEntries: chain.value.entries,
      auditHead: chain.value.head,
    });
  } catch (e) {
    if (e instanceof DatabaseError) return err(e.message);
    return err(`${path} cannot be verified: ${messageOf(e)}`);
  } finally {
    db.close();
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the database at `from` (possibly in use by a running server) to the new file `to`
 * as one consistent snapshot, as a single self-contained file (rollback journal, no WAL).
 */
export async function copyDatabase(from: string, to: string): Promise<void> {
  const src = new Database(from, { readonly: true, fileMustExist: true });
  try {
    // All pages in one step: one read transaction, so one snapshot, however busy the writer.
    await src.backup(to, { progress: ({ totalPages }) => Math.max(totalPages, 1) });
  } finally {
    src.close();
  }
  // Credential and token hashes, the audit trail: readable by the owner only.
  chmodSync(to, 0o600);
  const dest = new Database(to);
  dest.pragma('journal_mode = DELETE');
  dest.close();
  fsyncPath(to);
}

/** Takes a verified backup of `dbPath` at `out` (a new file; never overwritten). */
export async function backupDatabase(
  dbPath: string,
  out: string,
): Promise<Result<BackupSummary, string>> {
  if (!existsSync(dbPath)) return err(`no database at ${dbPath}`);
  if (existsSync(out)) return err(`${out} exists; choose a new file`);
  const tmp = `${out}.partial`;
  rmSync(tmp, { force: true });
  try {
    await copyDatabase(dbPath, tmp);
    const v = verifyDatabase(tmp);
    if (!v.ok) {
      rmSync(tmp, { force: true });
      return err(`the backup does not verify: ${v.error}`);
    }
    renameSync(tmp, out);
    fsyncPath(dirname(out));
    return v;
  } catch (e) {
    rmSync(tmp, { force: true });
    return err(`backup failed: ${messageOf(e)}`);
  }
}

const SIDE_FILES = ['', '-wal', '-shm', '-journal'] as const;

/**
 * Replaces the database at `dbPath` with the verified backup `from`. The caller has made sure
 * no server uses `dbPath`. The replaced database (with its WAL, which may hold the newest
 * writes) is moved aside, never deleted; its new name is returned.
 */
export async function restoreDatabase(
  from: string,
  dbPath: string,
  now: Date = new Date(),
): Promise<Result<{ summary: BackupSummary; keptAs: string | undefined }, string>> {
  const v = verifyDatabase(from);
  if (!v.ok) return err(`refusing to restore: ${v.error}`);
  const tmp = `${dbPath}.restoring`;
  for (const s of SIDE_FILES) rmSync(`${tmp}${s}`, { force: true });
  try {
    await copyDatabase(from, tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    return err(`restore failed: ${messageOf(e)}`);
  }
  let keptAs: string | undefined;
  if (existsSync(dbPath)) {
    keptAs = `${dbPath}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
    // SQLite finds a WAL by name: moving both under one new name keeps the old database whole.
    for (const s of SIDE_FILES)
      if (existsSync(`${dbPath}${s}`)) renameSync(`${dbPath}${s}`, `${keptAs}${s}`);
  }
  renameSync(tmp, dbPath);
  fsyncPath(dirname(dbPath));
  return ok({ summary: v.value, keptAs });
}
