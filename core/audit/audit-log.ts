/**
 * The custodian's local audit log: append-only, hash-chained JSONL (one entry per line),
 * fsync'd on every append so an approval is on disk before the card is touched.
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import {
  nextEntry,
  verifyAuditText,
  type AuditData,
  type AuditEntry,
  type AuditKind,
  type AuditSummary,
  type AuditVerifyError,
} from '../../shared/audit/audit-chain';
import type { Result } from '../../shared/result';

/** Options of {@link AuditLog.append}. */
export type AppendOptions = { readonly sync?: boolean };

/** An open audit log. */
export type AuditLog = {
  /**
   * Appends an entry and returns it. By default the entry is fsync'd before this returns;
   * `{ sync: false }` only writes it (it survives a crash of this process, not a power loss)
   * until the next {@link AuditLog.sync} or synced append.
   */
  append(kind: AuditKind, data: AuditData, options?: AppendOptions): AuditEntry;
  /** fsyncs everything written so far (cheap when nothing is pending). */
  sync(): void;
  /** The last entry, if any. */
  readonly head: AuditEntry | undefined;
  /** The file path. */
  readonly path: string;
  close(): void;
};

/**
 * Opens (or creates) the log at `path`. The existing content is verified first: appending to a
 * broken chain would hide the break, so a tampered log is refused with the reason.
 */
export function openAuditLog(path: string, clock: () => Date = () => new Date()): AuditLog {
  let head: AuditEntry | undefined;
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    const check = verifyAuditText(text);
    if (!check.ok) throw new Error(`audit log ${path} failed verification: ${check.error.message}`);
    const lines = text.trimEnd().split('\n');
    if (check.value.entries > 0) head = JSON.parse(lines[lines.length - 1]!) as AuditEntry;
  }
  const fd = openSync(path, 'a', 0o600);
  let closed = false;
  let pending = false;
  return {
    path,
    get head() {
      return head;
    },
    append(kind, data, options) {
      if (closed) throw new Error('audit log is closed');
      const entry = nextEntry(head, kind, data, clock());
      writeSync(fd, JSON.stringify(entry) + '\n');
      head = entry;
      if (options?.sync === false) pending = true;
      else {
        fsyncSync(fd);
        pending = false;
      }
      return entry;
    },
    sync() {
      if (closed || !pending) return;
      fsyncSync(fd);
      pending = false;
    },
    close() {
      if (!closed) {
        if (pending) fsyncSync(fd);
        closeSync(fd);
      }
      closed = true;
    },
  };
}

/** Verifies the log file at `path` (see {@link verifyAuditText}). A missing file is an error. */
export function verifyAuditFile(
  path: string,
  expectedHead?: string,
): Result<AuditSummary, AuditVerifyError> {
  if (!existsSync(path)) {
    return {
      ok: false,
      error: { line: 0, code: 'malformed', message: `audit log ${path} does not exist` },
    };
  }
  return verifyAuditText(readFileSync(path, 'utf8'), expectedHead);
}
