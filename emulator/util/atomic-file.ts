/**
 * Atomic file replacement: write a temporary file in the same directory, fsync, rename.
 * A crash leaves either the old or the new content, never a torn state file.
 * @module
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from '@noble/hashes/utils.js';
import { toHex } from '../../shared/codec/bytes';

/** Writes `content` to `file` atomically with the given permission bits. */
export function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o600): void {
  const tmp = join(dirname(file), `.${basename(file)}.${toHex(randomBytes(6))}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}
