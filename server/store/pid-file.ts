/**
 * `server.pid` in the data directory: written by a running server, removed when it stops, read
 * by `restore` so it never replaces the database under a running server. A file left by a
 * crash names a process that no longer exists and is ignored.
 * @module
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The pid file of a data directory. */
export const pidFile = (dataDir: string): string => join(dataDir, 'server.pid');

/** Records this process as the server of `dataDir`; returns the remover. */
export function writePidFile(dataDir: string): () => void {
  const file = pidFile(dataDir);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    if (runningServerPid(dataDir) === process.pid) rmSync(file, { force: true });
  };
}

/** The pid of a live server using `dataDir`, if any. */
export function runningServerPid(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else; still a live server.
    return (e as { code?: string }).code === 'EPERM' ? pid : undefined;
  }
}
