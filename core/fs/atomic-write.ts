/**
 * Replacing a file so that a crash or power loss leaves either the old or the new content,
 * never a torn or empty file: write a temporary file in the same directory, set its mode, fsync
 * it, rename it over the target, then fsync the directory so the rename itself is durable.
 * Every product file replacement goes through here (custodian config, decision store, desktop
 * settings and credentials, emulator state and CA).
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

/**
 * Writes `content` to `file` atomically and durably, with exactly the permission bits `mode`
 * (not reduced by the umask). The directory must exist. On failure the temporary file is
 * removed, the previous content of `file` is untouched, and the error is rethrown.
 */
export function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      fchmodSync(fd, mode);
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  syncDirectory(dir);
}

/** Makes a rename in `dir` durable. Platforms that cannot fsync a directory (Windows) skip it. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw e;
  } finally {
    closeSync(fd);
  }
}
