/**
 * Replacing a file so that a crash or power loss leaves either the old or the new content,
 * never a torn or empty file: write a temporary file in the same directory, set its mode, fsync
 * it, rename it over the target, then fsync the directory so the rename itself is durable.
 * Every product file replacement goes through here (custodian config, decision store, desktop
 * settings and credentials, emulator state and CA, the audit log's head). The file operations
 * sit behind a small port, node:fs by default, so the audit log's fault tests can fail any step.
 * @module
 */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** The file operations of an atomic replacement (synchronous: the caller relies on durability). */
export type AtomicWriteFs = {
  /** Creates `path`, which must not exist yet, for writing, with `mode`. */
  openExclusive(path: string, mode: number): number;
  /** Sets the permission bits of an open file exactly (the umask does not apply). */
  chmod(fd: number, mode: number): void;
  /** Writes some of `data` (at `position`, or at the file's end for an append descriptor). */
  write(fd: number, data: Uint8Array, position?: number): number;
  fsync(fd: number): void;
  close(fd: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Opens a directory to fsync it; undefined where directories cannot be opened (Windows). */
  openDirectory(dir: string): number | undefined;
};

/** The real file system. */
export const nodeAtomicWriteFs: AtomicWriteFs = {
  openExclusive: (path, mode) => openSync(path, 'wx', mode),
  chmod: (fd, mode) => fchmodSync(fd, mode),
  write: (fd, data, position) =>
    position === undefined ? writeSync(fd, data) : writeSync(fd, data, 0, data.length, position),
  fsync: (fd) => fsyncSync(fd),
  close: (fd) => closeSync(fd),
  rename: (from, to) => renameSync(from, to),
  unlink: (path) => unlinkSync(path),
  openDirectory(dir) {
    try {
      return openSync(dir, 'r');
    } catch {
      return undefined;
    }
  },
};

/**
 * Writes all of `data` (at `position`, or at the file's end), looping over short writes (a write
 * may stop early, e.g. on a signal or a nearly full disk). A write that makes no progress is an
 * error, never an endless loop.
 * @throws the file system's error (ENOSPC, EIO …) or Error on a zero-length write
 */
export function writeAll(
  fs: Pick<AtomicWriteFs, 'write'>,
  fd: number,
  data: Uint8Array,
  position?: number,
): void {
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
 * Writes `content` to `file` atomically and durably, with exactly the permission bits `mode`
 * (not reduced by the umask). The directory must exist. On failure the temporary file is
 * removed, the previous content of `file` is untouched, and the error is rethrown.
 * @param fs the file operations (default node:fs; tests inject faults here)
 */
export function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  mode = 0o600,
  fs: AtomicWriteFs = nodeAtomicWriteFs,
): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const fd = fs.openExclusive(tmp, mode);
  try {
    try {
      fs.chmod(fd, mode);
      writeAll(fs, fd, data, 0);
      fs.fsync(fd);
    } finally {
      fs.close(fd);
    }
    fs.rename(tmp, file);
  } catch (e) {
    try {
      fs.unlink(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  syncDirectory(dir, fs);
}

/**
 * Makes a new name in `dir` (a rename, a created file) durable. Platforms that cannot fsync a
 * directory (Windows; some file systems answer EINVAL) skip it; any other error is thrown.
 */
export function syncDirectory(dir: string, fs: AtomicWriteFs = nodeAtomicWriteFs): void {
  const fd = fs.openDirectory(dir);
  if (fd === undefined) return;
  try {
    fs.fsync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw e;
  } finally {
    fs.close(fd);
  }
}
