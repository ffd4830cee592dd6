/**
 * The few file operations the audit log uses, behind a port so tests can inject short writes,
 * a full disk or I/O errors at the exact step (test/unit/core/audit/). The default is node:fs.
 * @module
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** File operations of the audit log (synchronous, as an append must be on disk before use). */
export type AuditFs = {
  exists(path: string): boolean;
  /** The whole file; throws ENOENT when it does not exist. */
  read(path: string): Uint8Array;
  /** Opens for appending (created with mode 0600 when missing). */
  openAppend(path: string): number;
  /** Opens a new file for writing, replacing any old one (mode 0600). */
  openNew(path: string): number;
  /** Opens an existing file for reading and writing in place. */
  openUpdate(path: string): number;
  /** Writes some of `data` (at `position`, or at the file's end for an append descriptor). */
  write(fd: number, data: Uint8Array, position?: number): number;
  fsync(fd: number): void;
  truncate(fd: number, length: number): void;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Makes a rename or a new file in `dir` durable (a no-op where directories cannot be synced). */
  syncDir(dir: string): void;
};

/** The real file system. */
export const nodeAuditFs: AuditFs = {
  exists: (path) => existsSync(path),
  read: (path) => readFileSync(path),
  openAppend: (path) => openSync(path, 'a', 0o600),
  openNew: (path) => openSync(path, 'w', 0o600),
  openUpdate: (path) => openSync(path, 'r+'),
  write: (fd, data, position) =>
    position === undefined ? writeSync(fd, data) : writeSync(fd, data, 0, data.length, position),
  fsync: (fd) => fsyncSync(fd),
  truncate: (fd, length) => ftruncateSync(fd, length),
  close: (fd) => closeSync(fd),
  rename: (from, to) => renameSync(from, to),
  unlink: (path) => unlinkSync(path),
  syncDir(dir) {
    let fd: number;
    try {
      fd = openSync(dir, 'r');
    } catch {
      return; // Windows cannot open a directory; its renames are durable without this
    }
    try {
      fsyncSync(fd);
    } catch {
      // EINVAL/EISDIR on file systems that do not sync directories
    } finally {
      closeSync(fd);
    }
  },
};

/**
 * Writes all of `data` (at `position`, or at the file's end), looping over short writes (a write may stop early,
 * e.g. on a signal or a nearly full disk). A write that makes no progress is an error.
 * @throws the file system's error (ENOSPC, EIO …) or Error on a zero-length write
 */
export function writeAll(fs: AuditFs, fd: number, data: Uint8Array, position?: number): void {
  let done = 0;
  while (done < data.length) {
    const n = fs.write(
      fd,
      data.subarray(done),
      position === undefined ? undefined : position + done,
    );
    if (!Number.isInteger(n) || n <= 0 || n > data.length - done) {
      throw new Error(`write made no progress (${String(n)} of ${data.length - done} bytes)`);
    }
    done += n;
  }
}

/**
 * Replaces the file at `path` with `data` atomically: a temporary file is written and fsync'd,
 * renamed over `path`, and the directory is synced, so a crash leaves the old or the new
 * content, never a mix, and the new one once this returns.
 */
export function writeFileAtomic(fs: AuditFs, path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp`;
  const fd = fs.openNew(tmp);
  try {
    writeAll(fs, fd, data);
    fs.fsync(fd);
  } catch (e) {
    fs.close(fd);
    try {
      fs.unlink(tmp);
    } catch {
      // best effort: a stale temporary file is replaced by the next write
    }
    throw e;
  }
  fs.close(fd);
  fs.rename(tmp, path);
  fs.syncDir(dirname(path));
}
