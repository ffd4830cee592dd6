/**
 * A lock file next to the state file so two emulator processes never serve (and overwrite)
 * the same device. A lock left by a dead process is taken over.
 * @module
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';

/** The lock is held by another live process. */
export class LockedError extends Error {
  override readonly name = 'LockedError';
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
};

/** Acquires `<file>.lock`; returns the release function. */
export function lockStateFile(file: string): () => void {
  const lock = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new LockedError(`${file} is in use by process ${pid}`);
      }
      unlinkSync(lock); // stale
    }
  }
  throw new LockedError(`cannot lock ${file}`);
}
