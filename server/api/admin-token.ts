/**
 * The admin token: a random secret in `<dataDir>/admin-token` (mode 0600), created on first
 * start. The admin CLI on the same machine reads it from there (or takes `--admin-token`).
 * @module
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isWellFormedSecret, newSecret } from '../store/secrets';
import { messageOf } from '../../shared/error-message';

/** File name of the admin token inside the data directory. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Reads the admin token of a data directory. */
export function readAdminToken(dataDir: string): string {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read the admin token ${path}: ${messageOf(e)}`);
  }
  if (!isWellFormedSecret(text)) throw new Error(`admin token file ${path} is malformed`);
  return text;
}

/** Returns the admin token, creating it (0600) on first use; refuses a group/world-readable file. */
export function ensureAdminToken(dataDir: string): string {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (!existsSync(path)) {
    writeFileSync(path, `${newSecret()}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new Error(`admin token file ${path} is readable by others; chmod 600 it`);
  }
  return readAdminToken(dataDir);
}
