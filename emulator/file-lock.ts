/**
 * Cross-process locks for a machine's shared virtual readers (one pcscd, two vpcd readers),
 * used by the test harness and the demo alike: an O_EXCL file holding the owner's pid. A lock
 * whose owner died is stale and is taken over.
 * @module
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lockOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True if a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the lock at `path`, waiting up to `timeoutMs`; resolves with the release function. */
export async function lockFile(path: string, timeoutMs: number, what: string): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (lockOwner(path) === process.pid) unlinkSync(path);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = lockOwner(path);
    // No owner yet may mean "being written": only a dead owner makes the lock stale.
    if (owner !== undefined && owner !== process.pid && !isAlive(owner)) {
      try {
        unlinkSync(path);
      } catch {
        // someone else cleaned it up first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${what} stays locked by pid ${owner ?? '?'}`);
    await sleep(50);
  }
}
