/**
 * The few file operations the audit log uses, behind a port so tests can inject short writes,
 * a full disk or I/O errors at the exact step (test/unit/core/audit/). The default is node:fs.
 * Replacing a file (the head, a converted log) and syncing a directory go through
 * core/fs/atomic-write.ts with this same port, so its faults reach those steps too.
 * @module
 */
import { existsSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { nodeAtomicWriteFs, type AtomicWriteFs } from '../fs/atomic-write';

/** File operations of the audit log (synchronous, as an append must be on disk before use). */
export type AuditFs = AtomicWriteFs & {
  exists(path: string): boolean;
  /** The whole file; throws ENOENT when it does not exist. */
  read(path: string): Uint8Array;
  /** Opens for appending (created with mode 0600 when missing). */
  openAppend(path: string): number;
  /** Opens a new file for writing, replacing any old one (mode 0600). */
  openNew(path: string): number;
  /** Opens an existing file for reading and writing in place. */
  openUpdate(path: string): number;
  truncate(fd: number, length: number): void;
};

/** The real file system. */
export const nodeAuditFs: AuditFs = {
  ...nodeAtomicWriteFs,
  exists: (path) => existsSync(path),
  read: (path) => readFileSync(path),
  openAppend: (path) => openSync(path, 'a', 0o600),
  openNew: (path) => openSync(path, 'w', 0o600),
  openUpdate: (path) => openSync(path, 'r+'),
  truncate: (fd, length) => ftruncateSync(fd, length),
};
