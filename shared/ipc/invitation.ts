/**
 * The invitation as the custodian pastes it: either the bare enrollment token, or the whole
 * letter `custodian-server enroll create` prints (`server name:`, `server URL:`,
 * `TLS fingerprint:`, `enrollment token:` lines, server/README.md). From a letter the app takes
 * the server's name as the invitation names it, the address, and the fingerprint to compare;
 * every field is validated here, so nothing the letter says reaches the UI unchecked.
 * @module
 */
import { LIMITS } from '../protocol/limits';
import { err, ok, type Result } from '../result';
import { isDisplayText } from '../text/display-text';

/** What an invitation says. */
export type Invitation = {
  readonly token: string;
  /** The server's display name (letter line `server name:`). */
  readonly serverName?: string;
  /** The server address (letter line `server URL:`), `wss:`/`ws:` as printed. */
  readonly url?: string;
  /** SHA-256 of the server certificate, upper-case hex (letter line `TLS fingerprint:`). */
  readonly fingerprint?: string;
};

/** Longest invitation text accepted (a letter is a few hundred characters). */
export const MAX_INVITATION_CHARS = 4096;

const FIELDS = {
  'server name': 'serverName',
  'server url': 'url',
  'tls fingerprint': 'fingerprint',
  'enrollment token': 'token',
} as const;

/** The protocol's `secret` form (shared/protocol/fields.ts), without zod for the renderer. */
const SECRET = new RegExp(`^[A-Za-z0-9_-]{${LIMITS.secretMinChars},${LIMITS.secretMaxChars}}$`);

/** True when the pasted text is a letter (lines with `name: value`), not a bare token. */
export function isInvitationLetter(text: string): boolean {
  return /[\r\n:]/.test(text.trim());
}

/** Parses a pasted invitation (bare token or letter); errors are plain sentences. */
export function parseInvitation(text: string): Result<Invitation, string> {
  if (text.length > MAX_INVITATION_CHARS) return err('the invitation is too long');
  const trimmed = text.trim();
  if (!isInvitationLetter(trimmed)) return tokenOf(trimmed, {});
  const found: Partial<Record<(typeof FIELDS)[keyof typeof FIELDS], string>> = {};
  for (const line of trimmed.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z ]+?)\s*:\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const key = FIELDS[m[1]!.toLowerCase() as keyof typeof FIELDS];
    if (key === undefined) continue; // "invite for …", "valid until: …"
    if (found[key] !== undefined) return err(`the invitation names its ${m[1]} twice`);
    found[key] = m[2]!;
  }
  if (found.token === undefined) return err('the invitation has no "enrollment token:" line');
  const rest: { serverName?: string; url?: string; fingerprint?: string } = {};
  if (found.serverName !== undefined) {
    if (!isDisplayText(found.serverName, LIMITS.serverNameChars))
      return err(
        `the server name must be 1–${LIMITS.serverNameChars} characters without control or format characters`,
      );
    rest.serverName = found.serverName;
  }
  if (found.url !== undefined) {
    if (!/^(?:wss|ws|https|http):\/\/[^\s]{1,2040}$/.test(found.url))
      return err('the server URL in the invitation is not a ws(s):// or http(s):// address');
    rest.url = found.url;
  }
  // "(none: plain ws on loopback)" is printed for a server without TLS.
  if (found.fingerprint !== undefined && !found.fingerprint.startsWith('(')) {
    const hex = found.fingerprint.replace(/[\s:]/g, '').toUpperCase();
    if (!/^[0-9A-F]{64}$/.test(hex))
      return err('the TLS fingerprint in the invitation is not 64 hex digits');
    rest.fingerprint = hex;
  }
  return tokenOf(found.token, rest);
}

function tokenOf(token: string, rest: Omit<Invitation, 'token'>): Result<Invitation, string> {
  return SECRET.test(token)
    ? ok({ token, ...rest })
    : err('the invitation token must be 22–256 characters of A–Z a–z 0–9 _ -');
}

/**
 * The https address the custodian types for a letter's `wss://host:port/ws` URL (the app
 * accepts both forms; this one matches the address field's https-only rule).
 */
export function addressOfInvitationUrl(url: string): string {
  return url.replace(/^wss:/, 'https:').replace(/^ws:/, 'http:').replace(/\/ws$/, '');
}
