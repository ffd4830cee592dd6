/**
 * The custodian's local configuration and state: server URL and its pin, custodian id, trust
 * anchor files, reader or emulator, key id and the audit log path, in `config.json` under
 * `$CUSTODIAN_HOME` (default `~/.config/custodian`). The session credential lives in its own
 * 0600 file so the config can be shown or copied without the secret. Validated with zod on load.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { LIMITS, displayTextSchema } from '../../shared/protocol/index';
import { err, ok, type Result } from '../../shared/result';
import { messageOf } from '../../shared/error-message';
import { writeFileAtomic } from '../fs/atomic-write';

const sha256Fingerprint = z
  .string()
  .transform((s) => s.replace(/:/g, '').toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 fingerprint (64 hex digits)'));

/** Schema of `config.json` (version 1). Unknown keys are rejected: a typo must not be ignored. */
export const custodianConfigSchema = z.strictObject({
  version: z.literal(1),
  /** The management server; absent until `custodian enroll`. */
  server: z
    .strictObject({
      url: z
        .string()
        .regex(/^wss?:\/\/[^\s]+$/, 'must be a ws:// or wss:// URL')
        .max(2048),
      /** SHA-256 of the server certificate (DER), when pinned by fingerprint. */
      fingerprint: sha256Fingerprint.optional(),
      /** PEM file of the CA that must have issued the server certificate, when pinned by CA. */
      caFile: z.string().min(1).max(4096).optional(),
      /** The server's display name, as the invitation (or else its `welcome`) named it. */
      name: displayTextSchema(LIMITS.serverNameChars).optional(),
    })
    .optional(),
  custodianId: z.string().min(1).max(64).optional(),
  /** CVC files of the trust anchors (SRCA) target chains must lead to. */
  trustAnchors: z.array(z.string().min(1).max(4096)).max(32).default([]),
  /** PC/SC reader name of the custodian's card. */
  reader: z.string().min(1).max(256).optional(),
  /** State file of an emulated card (tests, demo). */
  emulator: z.string().min(1).max(4096).optional(),
  /** Key id of the custodian's PKA key on its card. */
  keyId: z.int().min(1).max(255).optional(),
  /** CHR of that key (its id at the targets, docs/card-reference.md §6.2). */
  keyChr: z
    .string()
    .regex(/^[\x21-\x7e]{1,16}$/, 'must be 1–16 printable ASCII characters')
    .optional(),
  /** Audit log path (default `audit.jsonl` in the home directory). */
  auditFile: z.string().min(1).max(4096).optional(),
});

/** The validated configuration. */
export type CustodianConfig = z.output<typeof custodianConfigSchema>;

/** Why loading or saving failed. */
export type ConfigError = {
  readonly code: 'not-found' | 'unreadable' | 'invalid' | 'insecure-permissions';
  readonly message: string;
};

const CONFIG_FILE = 'config.json';
const CREDENTIAL_FILE = 'credential';
/** Longest credential file accepted (the protocol allows 256 characters). */
const MAX_CREDENTIAL_CHARS = 1024;

/** The custodian home: `$CUSTODIAN_HOME`, else `$XDG_CONFIG_HOME/custodian`, else `~/.config/custodian`. */
export function custodianHome(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['CUSTODIAN_HOME'];
  if (explicit) return resolve(explicit);
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config'), 'custodian');
}

/** Resolves a path from the config relative to the home directory. */
export function resolveInHome(home: string, path: string): string {
  return isAbsolute(path) ? path : join(home, path);
}

/** Path of the audit log for this home and config. */
export function auditFilePath(home: string, config?: Pick<CustodianConfig, 'auditFile'>): string {
  return resolveInHome(home, config?.auditFile ?? 'audit.jsonl');
}

/** Formats zod issues as `path: message` lines. */
function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses and validates config text. */
export function parseCustodianConfig(text: string): Result<CustodianConfig, ConfigError> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err({ code: 'invalid', message: `config is not JSON: ${messageOf(e)}` });
  }
  const parsed = custodianConfigSchema.safeParse(json);
  if (!parsed.success)
    return err({ code: 'invalid', message: `config is invalid: ${issues(parsed.error)}` });
  const { server } = parsed.data;
  if (server && server.fingerprint !== undefined && server.caFile !== undefined) {
    return err({
      code: 'invalid',
      message: 'config pins the server twice: use fingerprint or caFile',
    });
  }
  return ok(parsed.data);
}

/** Loads `config.json` from `home`. */
export function loadCustodianConfig(home: string): Result<CustodianConfig, ConfigError> {
  const path = join(home, CONFIG_FILE);
  if (!existsSync(path)) {
    return err({
      code: 'not-found',
      message: `no configuration at ${path} (run "custodian enroll" first)`,
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err({ code: 'unreadable', message: `cannot read ${path}: ${messageOf(e)}` });
  }
  return parseCustodianConfig(text);
}

/** Creates the home directory (0700) if needed. */
export function ensureHome(home: string): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
}

/** Validates and saves `config.json` (0600). */
export function saveCustodianConfig(
  home: string,
  config: CustodianConfig,
): Result<void, ConfigError> {
  const parsed = custodianConfigSchema.safeParse(config);
  if (!parsed.success)
    return err({ code: 'invalid', message: `config is invalid: ${issues(parsed.error)}` });
  ensureHome(home);
  writeFileAtomic(join(home, CONFIG_FILE), JSON.stringify(parsed.data, null, 2) + '\n', 0o600);
  return ok(undefined);
}

/** Saves the session credential to its own file, readable by the owner only (0600). */
export function saveCredential(home: string, credential: string): void {
  if (
    credential.length === 0 ||
    credential.length > MAX_CREDENTIAL_CHARS ||
    /\s/.test(credential)
  ) {
    throw new Error('refusing to store an empty, oversized or whitespace-containing credential');
  }
  ensureHome(home);
  writeFileAtomic(join(home, CREDENTIAL_FILE), credential + '\n', 0o600);
}

/**
 * Loads the session credential. A file that group or others can read is refused: the
 * credential lets anyone act as this custodian towards the server.
 */
export function loadCredential(home: string): Result<string, ConfigError> {
  const path = join(home, CREDENTIAL_FILE);
  if (!existsSync(path))
    return err({ code: 'not-found', message: `no credential at ${path} (enroll first)` });
  const st = statSync(path);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    return err({
      code: 'insecure-permissions',
      message: `${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600`,
    });
  }
  if (st.size > MAX_CREDENTIAL_CHARS + 2)
    return err({ code: 'invalid', message: `${path} is too large` });
  const text = readFileSync(path, 'utf8').trim();
  if (text.length === 0) return err({ code: 'invalid', message: `${path} is empty` });
  return ok(text);
}
