/**
 * Which server URLs the custodian client may connect to (docs/card-reference.md §14.2 item 4):
 * `wss://` only with a pinned CA or a pinned certificate fingerprint; plain `ws://` only to a
 * loopback address (tests, a server on the same machine).
 * @module
 */
import { isIP } from 'node:net';
import { err, ok, type Result } from '../../shared/result';

/** How the server's TLS certificate is pinned. */
export type ServerPin =
  | { readonly kind: 'fingerprint'; readonly sha256: string }
  | { readonly kind: 'ca'; readonly pem: string };

/** Why a URL was refused. */
export type UrlPolicyError = {
  readonly code: 'bad-url' | 'insecure' | 'no-pin';
  readonly message: string;
};

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Normalises a SHA-256 fingerprint (`AA:BB:…` or hex) to 64 lower-case hex digits, or undefined. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** Checks a server URL against the policy. Returns the parsed URL. */
export function checkServerUrl(
  text: string,
  pin: ServerPin | undefined,
): Result<URL, UrlPolicyError> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return err({ code: 'bad-url', message: `"${text.slice(0, 200)}" is not a URL` });
  }
  if (url.username || url.password) {
    return err({ code: 'bad-url', message: 'credentials in the URL are not allowed' });
  }
  if (url.hash) return err({ code: 'bad-url', message: 'the server URL must not have a fragment' });
  if (url.protocol === 'ws:') {
    if (!isLoopbackHost(url.hostname)) {
      return err({
        code: 'insecure',
        message: `plain ws:// is only allowed to loopback; use wss:// for ${url.hostname}`,
      });
    }
    return ok(url);
  }
  if (url.protocol !== 'wss:') {
    return err({ code: 'bad-url', message: `scheme ${url.protocol} is not ws: or wss:` });
  }
  if (!pin) {
    return err({
      code: 'no-pin',
      message: 'wss:// needs a pinned server certificate fingerprint or CA (--fingerprint or --ca)',
    });
  }
  if (pin.kind === 'fingerprint' && normalizeFingerprint(pin.sha256) === undefined) {
    return err({
      code: 'bad-url',
      message: 'the pinned fingerprint is not a SHA-256 (64 hex digits)',
    });
  }
  return ok(url);
}
