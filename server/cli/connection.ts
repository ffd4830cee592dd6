/**
 * Where the operator's commands find the server: from the config file (listen address, data
 * dir with the admin token and the self-signed certificate) or from explicit options. Server
 * side of the dispatcher, so the admin CLI (server/admin-cli/) reads no server files itself.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connected, ServerTarget } from '../admin-cli/admin-client';
import { UsageError } from '../admin-cli/errors';
import { readAdminToken } from '../api/admin-token';
import { loadConfig } from '../config';
import { messageOf } from '../../shared/error-message';

/** Common connection options of admin commands. */
export type ConnectionOptions = {
  readonly config?: string;
  readonly server?: string;
  readonly dataDir?: string;
  readonly adminToken?: string;
  readonly ca?: string;
};

/** Resolves the connection options into URL, token and CA. */
export function resolveServer(o: ConnectionOptions): ServerTarget {
  let url = o.server;
  let dataDir = o.dataDir;
  let ca = o.ca === undefined ? undefined : readFileSync(o.ca, 'utf8');
  if (o.config !== undefined) {
    const c = loadConfig(o.config);
    if (!c.ok) throw new UsageError(c.error.message);
    dataDir ??= c.value.dataDir;
    const host = ['0.0.0.0', '::'].includes(c.value.listen.host)
      ? '127.0.0.1'
      : c.value.listen.host;
    url ??= `${c.value.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${c.value.listen.port}`;
    const tls = c.value.tls;
    if (ca === undefined && tls !== undefined) {
      const cert = tls === 'self-signed' ? join(c.value.dataDir, 'tls-cert.pem') : tls.cert;
      if (existsSync(cert)) ca = readFileSync(cert, 'utf8');
    }
  }
  if (url === undefined)
    throw new UsageError('say where the server is: --config FILE or --server URL');
  if (!/^https?:\/\/[^\s/]+\/?$/.test(url))
    throw new UsageError(`server URL ${url} must look like https://host:port`);
  let token = o.adminToken;
  if (token === undefined) {
    if (dataDir === undefined)
      throw new UsageError('no admin token: give --admin-token, --data-dir or --config');
    try {
      token = readAdminToken(dataDir);
    } catch (e) {
      throw new UsageError(messageOf(e));
    }
  }
  return { url: url.replace(/\/$/, ''), token, ca };
}

/** `o` with its server resolved: what an admin command takes. */
export function connect<O extends ConnectionOptions>(o: O): O & Connected {
  return { ...o, conn: resolveServer(o) };
}
