/**
 * The custodian's local audit log: append-only, hash-chained JSONL (one entry per line, each
 * in its one canonical encoding), fsync'd on every append so an approval is on disk before the
 * card is touched, with its head (entry count and last hash) kept next to it in `<log>.head`
 * so entries cut off the end are seen (docs/audit-log.md).
 * @module
 */
import {
  encodeEntryLine,
  nextEntry,
  verifyAuditBytes,
  type AuditData,
  type AuditEntry,
  type AuditKind,
  type AuditSummary,
  type AuditVerifyError,
} from '../../shared/audit/audit-chain';
import type { AuditHead } from '../../shared/audit/audit-tail';
import type { Result } from '../../shared/result';
import { writeAll } from '../fs/atomic-write';
import { nodeAuditFs, type AuditFs } from './audit-fs';
import { openAuditHeadWriter } from './audit-head';
import { loadAuditLog, type AuditRecovery } from './audit-open';
import { messageOf } from '../../shared/error-message';

export {
  adoptAuditHead,
  describeAuditRecovery,
  verifyAuditLog,
  type AuditRecovery,
} from './audit-open';
export { headFilePath } from './audit-head';

/** Options of {@link AuditLog.append}. */
export type AppendOptions = { readonly sync?: boolean };

/** Options of {@link openAuditLog}. */
export type OpenAuditLogOptions = {
  /** File operations (default node:fs); tests inject faults here. */
  readonly fs?: AuditFs;
};

/** An open audit log. */
export type AuditLog = {
  /**
   * Appends an entry and returns it. By default the entry is fsync'd (and the head advanced)
   * before this returns; `{ sync: false }` only writes it (it survives a crash of this process,
   * not a power loss) until the next {@link AuditLog.sync} or synced append.
   * @throws Error when the entry could not be written completely (disk full, I/O error): the
   *   log is cut back to the entry before, so nothing but this entry is missing and the next
   *   start finds an intact log
   */
  append(kind: AuditKind, data: AuditData, options?: AppendOptions): AuditEntry;
  /** fsyncs everything written so far and advances the head (cheap when nothing is pending). */
  sync(): void;
  /** The last entry, if any. */
  readonly head: AuditEntry | undefined;
  /** The file path. */
  readonly path: string;
  /**
   * Set when opening found an incomplete last line (a crash mid-append), moved it aside and
   * recorded a `log-recovered` entry: tell the user.
   */
  readonly recovered: AuditRecovery | undefined;
  close(): void;
};

/**
 * Opens (or creates) the log at `path`. The existing content is verified first — byte for
 * byte, and against its head: appending to a broken chain would hide the break, so a tampered
 * or cut-off log is refused with the reason. An incomplete last line is moved aside and the
 * recovery is audited (see {@link AuditLog.recovered}).
 * @throws Error "audit log … failed verification: …" when the log cannot be used
 */
export function openAuditLog(
  path: string,
  clock: () => Date = () => new Date(),
  options: OpenAuditLogOptions = {},
): AuditLog {
  const fs = options.fs ?? nodeAuditFs;
  const loaded = loadAuditLog(fs, path, clock());
  let head = loaded.last;
  let pinned: AuditHead = loaded.pinned;
  let size = loaded.size;
  const heads = openAuditHeadWriter(fs, path);
  let fd: number;
  try {
    fd = fs.openAppend(path);
  } catch (e) {
    heads.close();
    throw e;
  }
  let closed = false;
  let pending = false;
  /** Why the log cannot take more entries (a failed append could not be undone). */
  let broken: string | undefined;

  const advanceHead = () => {
    if (head === undefined || head.seq === pinned.entries) return;
    const next = { entries: head.seq, head: head.hash };
    heads.write(next);
    pinned = next;
  };

  /** Cuts the log back to `size` after a failed write or fsync, so no broken line remains. */
  const rollBack = (cause: unknown): Error => {
    const why = messageOf(cause);
    try {
      fs.truncate(fd, size);
      fs.fsync(fd);
    } catch (e) {
      broken = `${why}; cutting back the partial entry failed too: ${messageOf(e)}`;
      return new Error(
        `audit log ${path}: append failed (${broken}); the next start recovers the log`,
      );
    }
    return new Error(`audit log ${path}: append failed, entry not recorded: ${why}`);
  };

  const log: AuditLog = {
    path,
    recovered: loaded.recovered,
    get head() {
      return head;
    },
    append(kind, data, opts) {
      if (closed) throw new Error('audit log is closed');
      if (broken !== undefined) throw new Error(`audit log ${path} is unusable: ${broken}`);
      const entry = nextEntry(head, kind, data, clock());
      const bytes = new TextEncoder().encode(encodeEntryLine(entry) + '\n');
      const sync = opts?.sync !== false;
      try {
        writeAll(fs, fd, bytes);
        if (sync) fs.fsync(fd);
      } catch (e) {
        throw rollBack(e);
      }
      size += bytes.length;
      head = entry;
      if (!sync) {
        pending = true;
        return entry;
      }
      pending = false;
      try {
        advanceHead();
      } catch (e) {
        // The entry is durable in the log; only the head lags (retried on the next sync).
        // Still an error to the caller: a full disk must not pass unnoticed.
        throw new Error(
          `audit log ${path}: entry ${entry.seq} written, but its head could not be updated: ${messageOf(e)}`,
        );
      }
      return entry;
    },
    sync() {
      if (closed) return;
      if (pending) {
        fs.fsync(fd);
        pending = false;
      }
      advanceHead();
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        if (pending && broken === undefined) {
          fs.fsync(fd);
          advanceHead();
        }
      } finally {
        fs.close(fd);
        heads.close();
      }
    },
  };
  try {
    if (loaded.recovered) {
      const { movedTo, bytes, offset } = loaded.recovered;
      log.append('log-recovered', { movedTo, bytes, offset });
    } else if (head !== undefined && head.seq !== pinned.entries) {
      // Complete entries after the head (deferred ones, or a head update that failed): make
      // them durable and pin them, so cutting them off is seen from now on.
      fs.fsync(fd);
      advanceHead();
    }
  } catch (e) {
    log.close();
    throw e;
  }
  return log;
}

/**
 * Verifies the chain of the log at `path` byte for byte (see `verifyAuditText`), without its
 * head file: entries cut off the end are seen only with `expectedHead`. Use
 * {@link verifyAuditLog} to check the log against its head. A missing file is an error.
 */
export function verifyAuditFile(
  path: string,
  expectedHead?: string,
): Result<AuditSummary, AuditVerifyError> {
  if (!nodeAuditFs.exists(path)) {
    return {
      ok: false,
      error: { line: 0, code: 'malformed', message: `audit log ${path} does not exist` },
    };
  }
  return verifyAuditBytes(nodeAuditFs.read(path), expectedHead);
}
