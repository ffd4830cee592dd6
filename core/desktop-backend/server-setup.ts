/**
 * Adding a management server from the desktop app: the address the custodian typed turned into
 * the custodian WebSocket URL, the server certificate fingerprint shown for comparison with the
 * invitation letter (and then pinned, docs/card-reference.md §14.2 item 4), and the desktop's
 * words for a failed enrollment (the enrollment itself is core/custodian/enroll.ts, shared with
 * the CLI).
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { ipcError, type IpcError } from '../../shared/ipc/errors';
import { parseInvitation, type Invitation } from '../../shared/ipc/invitation';
import { err, ok, type Result } from '../../shared/result';
import { resolveInHome } from '../config/custodian-config';
import type { EnrollFailure } from '../custodian/enroll';
import { checkServerUrl, type ServerPin } from '../net/url-policy';
import { messageOf } from '../../shared/error-message';

/** The all-zero fingerprint shown for a plain loopback server (there is no certificate). */
export const NO_TLS_FINGERPRINT = '0'.repeat(64);

/**
 * The custodian WebSocket URL for an address: `https:` → `wss:`, `http:` (loopback only, the
 * contract checks it) → `ws:`; an address without a path gets the server's `/ws`.
 */
export function wsUrlOf(address: string): Result<URL, IpcError> {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return err(ipcError('invalid-request', 'the server address is not a URL'));
  }
  if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol !== 'wss:' && url.protocol !== 'ws:')
    return err(ipcError('invalid-request', `scheme ${url.protocol} is not https:`));
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/ws';
  url.search = '';
  const checked = checkServerUrl(
    url.toString(),
    url.protocol === 'wss:' ? { kind: 'fingerprint', sha256: NO_TLS_FINGERPRINT } : undefined,
  );
  if (!checked.ok) return err(ipcError('invalid-request', checked.error.message));
  return ok(url);
}

/** The address as the custodian typed it, from the stored WebSocket URL. */
export function displayUrlOf(wsUrl: string): string {
  try {
    const url = new URL(wsUrl);
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    if (url.pathname === '/ws') url.pathname = '/';
    return url.toString().replace(/\/$/, '');
  } catch {
    return wsUrl;
  }
}

/** Reads the server's TLS certificate and returns its SHA-256 (upper-case hex). */
export type FingerprintReader = (url: URL) => Promise<string>;

/**
 * Connects with TLS only to read the certificate (not trusted yet: the custodian compares the
 * fingerprint with the invitation letter before anything is sent; afterwards it is pinned).
 */
export const readTlsFingerprint: FingerprintReader = (url) =>
  new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 443 : Number(url.port),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      rejectUnauthorized: false, // only to read the certificate; it is pinned after review
      timeout: 10_000,
    });
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!cert || cert.raw === undefined)
        return reject(new Error('the server sent no certificate'));
      resolve(createHash('sha256').update(cert.raw).digest('hex').toUpperCase());
    });
    socket.once('timeout', () => fail(new Error('timed out')));
    socket.once('error', fail);
  });

/**
 * The TLS pin of a configured server (docs/card-reference.md §14.2 item 4): its fingerprint, or the
 * PEM of its CA file (the CLI's `--ca`), resolved relative to the home.
 */
export function serverPinOf(
  server: {
    readonly url: string;
    readonly fingerprint?: string | undefined;
    readonly caFile?: string | undefined;
  },
  home: string,
): Result<ServerPin | undefined, string> {
  if (server.fingerprint !== undefined)
    return ok({ kind: 'fingerprint', sha256: server.fingerprint.toLowerCase() });
  if (server.caFile === undefined) return ok(undefined);
  const path = resolveInHome(home, server.caFile);
  try {
    const pem = readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      return err(`${path} is not a PEM certificate`);
    return ok({ kind: 'ca', pem });
  } catch (e) {
    return err(`cannot read the server CA file ${path}: ${messageOf(e)}`);
  }
}

/** The pin for a WebSocket URL and fingerprint. */
export function pinOf(url: URL, fingerprint: string): ServerPin | undefined {
  return url.protocol === 'wss:'
    ? { kind: 'fingerprint', sha256: fingerprint.toLowerCase() }
    : undefined;
}

/** The enrollment token of a pasted invitation (bare token or letter; the server checks it). */
export function checkInvite(invite: string): Result<string, IpcError> {
  const parsed = parseInvitation(invite);
  return parsed.ok ? ok(parsed.value.token) : err(ipcError('invite-invalid', parsed.error));
}

/**
 * Checks the pasted invitation — the bare token or the whole letter (shared/ipc/invitation.ts)
 * — and that a letter's server URL is the address being added (the server checks the token).
 */
export function readInvitation(invite: string, url: URL): Result<Invitation, IpcError> {
  const parsed = parseInvitation(invite);
  if (!parsed.ok) return err(ipcError('invite-invalid', parsed.error));
  const named = parsed.value.url === undefined ? undefined : wsUrlOf(parsed.value.url);
  if (named !== undefined && (!named.ok || named.value.toString() !== url.toString()))
    return err(
      ipcError(
        'invite-invalid',
        `the invitation is for ${parsed.value.url}, not ${displayUrlOf(url.toString())}`,
      ),
    );
  return parsed;
}

/** Maps the server's refusal of an enrollment to words. */
function refusal(message: string): IpcError {
  if (/expired/i.test(message)) return ipcError('invite-expired', message);
  if (/token|used|invite|unknown/i.test(message)) return ipcError('invite-invalid', message);
  if (/chain|anchor|attest|pka|key/i.test(message)) return ipcError('chain-invalid', message);
  return ipcError('invite-invalid', message);
}

/** The desktop app's error code and words for a failed enrollment (core/custodian/enroll.ts). */
export function enrollmentError(f: EnrollFailure): IpcError {
  switch (f.kind) {
    case 'timeout':
      return ipcError('server-unreachable', f.message);
    case 'no-credential':
      return ipcError('invite-invalid', f.message);
    case 'refused':
      return refusal(f.message);
    case 'disconnected': {
      const identity = /certificate|fingerprint|self.signed|pin/i.test(f.reason);
      return ipcError(identity ? 'server-identity' : 'server-unreachable', f.reason);
    }
  }
}
