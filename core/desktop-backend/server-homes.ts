/**
 * Where the desktop app keeps its servers: each server is a standard custodian home
 * (core/config: `config.json`, `decisions.jsonl`, and — without an OS secret store — the 0600
 * `credential` file). The home the CLI uses is the server `default`, so a custodian enrolled
 * with `custodian enroll` sees the same server in the app; servers added in the app live in
 * `servers/<id>/` below it.
 * @module
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  loadCredential,
  loadCustodianConfig,
  saveCredential,
  type CustodianConfig,
} from '../config/custodian-config';

/** Id of the server in the root home (the CLI's). */
export const DEFAULT_SERVER_ID = 'default';

/** One configured server. */
export type ServerHome = {
  readonly id: string;
  readonly home: string;
  readonly config: CustodianConfig & { server: NonNullable<CustodianConfig['server']> };
};

/** A server home that could not be loaded, with the reason. */
export type BrokenHome = { readonly id: string; readonly home: string; readonly reason: string };

/**
 * Where session credentials are kept; the desktop shell passes its OS secret store
 * (electron/main/credential-store.ts has this shape).
 */
export type CredentialPort = {
  save(serverId: string, credential: string): Promise<{ message: string } | undefined>;
  load(serverId: string): Promise<string | { message: string } | undefined>;
  remove(serverId: string): Promise<void>;
};

const ID = /^s-[0-9a-f]{12}$/;

/** Lists the servers under `root` (configured ones; broken ones separately). */
export function listServerHomes(root: string): { homes: ServerHome[]; broken: BrokenHome[] } {
  const homes: ServerHome[] = [];
  const broken: BrokenHome[] = [];
  const consider = (id: string, home: string) => {
    const c = loadCustodianConfig(home);
    if (!c.ok) {
      if (c.error.code !== 'not-found') broken.push({ id, home, reason: c.error.message });
      return;
    }
    const config = c.value;
    if (config.server === undefined) return;
    if (config.custodianId === undefined || config.keyId === undefined) {
      broken.push({ id, home, reason: `${home}: not enrolled (custodian id or key id missing)` });
      return;
    }
    homes.push({ id, home, config: { ...config, server: config.server } });
  };
  consider(DEFAULT_SERVER_ID, root);
  const dir = join(root, 'servers');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) if (ID.test(name)) consider(name, join(dir, name));
  }
  return { homes, broken };
}

/** A fresh server id and its home directory (not created yet). */
export function newServerHome(root: string): { id: string; home: string } {
  const id = `s-${randomBytes(6).toString('hex')}`;
  return { id, home: join(root, 'servers', id) };
}

/** Deletes an app-added server's home (the CLI's root home is never deleted, only unlisted). */
export function removeServerHome(root: string, id: string): void {
  if (!ID.test(id)) return;
  rmSync(join(root, 'servers', id), { recursive: true, force: true });
}

/** Loads the session credential: the secret store first, else the 0600 file of the home. */
export async function loadServerCredential(
  s: { id: string; home: string },
  port: CredentialPort | undefined,
): Promise<{ ok: true; value: string } | { ok: false; reason: string }> {
  if (port && s.id !== DEFAULT_SERVER_ID) {
    const stored = await port.load(s.id);
    if (typeof stored === 'string') return { ok: true, value: stored };
    if (stored !== undefined) return { ok: false, reason: stored.message };
  }
  const file = loadCredential(s.home);
  return file.ok ? { ok: true, value: file.value } : { ok: false, reason: file.error.message };
}

/**
 * Stores the session credential: in the secret store when there is one (a store that refuses
 * is an error, never a silent fallback to a file), else in the 0600 file like the CLI.
 */
export async function saveServerCredential(
  s: { id: string; home: string },
  credential: string,
  port: CredentialPort | undefined,
): Promise<string | undefined> {
  if (port) return (await port.save(s.id, credential))?.message;
  saveCredential(s.home, credential);
  return undefined;
}
