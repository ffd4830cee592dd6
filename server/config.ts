/**
 * The server configuration file (JSON, validated with zod). Relative paths are resolved against
 * the directory of the file, so a config can be moved together with its data directory.
 * @module
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { LIMITS, displayTextSchema } from '../shared/protocol';
import { err, ok, type Result } from '../shared/result';
import { messageOf } from '../shared/error-message';
import { trustedProxyList } from './net/admission';

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use 1–64 letters, digits, ".", "_" or "-"');

const targetSchema = z
  .object({
    name,
    /** PC/SC reader name of the target HSM (opened exclusively). */
    reader: z.string().min(1).max(200).optional(),
    /** Emulator state file (development and tests). */
    emulatorState: z.string().min(1).optional(),
    /** Human label shown to custodians (defaults to the name). */
    label: displayTextSchema(100).optional(),
  })
  .strict()
  .refine((t) => (t.reader === undefined) !== (t.emulatorState === undefined), {
    message: 'a target needs exactly one of "reader" or "emulatorState"',
  });

const configSchema = z
  .object({
    listen: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(0).max(65535),
      })
      .strict(),
    /** Certificate and key files, "self-signed" (generated into dataDir), or absent for plain ws on loopback. */
    tls: z
      .union([z.literal('self-signed'), z.object({ cert: z.string(), key: z.string() }).strict()])
      .optional(),
    /**
     * The server's display name (e.g. "Acme PKI"), printed in invites and sent in `welcome`
     * (docs/protocol.md §5.1); the desktop app shows it next to the address and pinned certificate.
     */
    name: displayTextSchema(LIMITS.serverNameChars).optional(),
    /** URL custodians use to reach the server (printed in invites); derived from listen if absent. */
    publicUrl: z.string().url().optional(),
    dataDir: z.string().min(1),
    targets: z.array(targetSchema).min(1).max(64),
    /** CVC files of trusted scheme roots (SRCA); the word "production" adds the CardContact root. */
    trustAnchors: z.array(z.string().min(1)).min(1),
    unlock: z
      .object({
        maxSeconds: z.number().int().min(1).max(86_400),
        maxSignatures: z.number().int().min(1).max(1_000_000),
      })
      .strict(),
    /** The PKCS#11 module's Unix socket (docs/pkcs11.md); absent = no module socket. */
    pkcs11: z
      .object({ socket: z.string().min(1).max(100) })
      .strict()
      .optional(),
    ceremonyDefaults: z
      .object({
        // Clients refuse offers expiring more than 60 minutes ahead (docs/protocol.md §8).
        expiresInSeconds: z.number().int().min(10).max(3600),
      })
      .strict(),
    /**
     * Reverse proxies (addresses or CIDR subnets) whose `X-Forwarded-For` names the client
     * (server/README.md "Behind a reverse proxy"); from anyone else the header is ignored.
     */
    trustedProxies: z.array(z.string().min(1).max(64)).max(64).optional(),
    /** Caps on connections that have not authenticated yet (server/README.md). */
    connections: z
      .object({
        maxUnauthenticatedPerAddress: z.number().int().min(1).max(10_000),
        maxUnauthenticated: z.number().int().min(1).max(100_000),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const t of c.targets) {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', message: `duplicate target ${t.name}` });
      seen.add(t.name);
    }
  });

/** A validated configuration with absolute paths. */
export type ServerConfig = z.infer<typeof configSchema>;
/** One configured target. */
export type TargetConfig = ServerConfig['targets'][number];

/** Why a configuration was refused. */
export type ConfigError = { readonly code: 'unreadable' | 'invalid'; readonly message: string };

/** True for loopback addresses and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const h = host.replace(/^\[|\]$/g, '');
  return h === '::1' || /^::ffff:127\./i.test(h);
}

/**
 * Validates a parsed config. Plain WebSocket (no TLS) is refused unless the server only listens
 * on loopback: custodian credentials and approvals must never cross a network in clear
 * (docs/card-reference.md §14).
 */
export function parseConfig(value: unknown, baseDir: string): Result<ServerConfig, ConfigError> {
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return err({ code: 'invalid', message: `config ${where}${issue?.message ?? 'invalid'}` });
  }
  const c = parsed.data;
  if (c.tls === undefined && !isLoopbackHost(c.listen.host)) {
    return err({
      code: 'invalid',
      message: `config: listening on ${c.listen.host} without TLS is refused; set "tls" (a cert/key pair or "self-signed") or listen on 127.0.0.1`,
    });
  }
  try {
    trustedProxyList(c.trustedProxies ?? []);
  } catch (e) {
    return err({ code: 'invalid', message: `config trustedProxies: ${messageOf(e)}` });
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const out: ServerConfig = {
    ...c,
    dataDir: abs(c.dataDir),
    targets: c.targets.map((t) =>
      t.emulatorState === undefined ? t : { ...t, emulatorState: abs(t.emulatorState) },
    ),
    trustAnchors: c.trustAnchors.map((a) => (a === 'production' ? a : abs(a))),
  };
  if (c.pkcs11 !== undefined) out.pkcs11 = { socket: abs(c.pkcs11.socket) };
  if (c.tls !== undefined && c.tls !== 'self-signed') {
    out.tls = { cert: abs(c.tls.cert), key: abs(c.tls.key) };
  }
  return ok(out);
}

/** Reads and validates a config file. */
export function loadConfig(path: string): Result<ServerConfig, ConfigError> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err({
      code: 'unreadable',
      message: `cannot read config ${path}: ${messageOf(e)}`,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err({ code: 'invalid', message: `config ${path} is not JSON: ${messageOf(e)}` });
  }
  return parseConfig(json, dirname(resolve(path)));
}

/** A sane starting config for local use (`custodian-server init-config`). */
export function defaultConfig(): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 8443 },
    tls: 'self-signed',
    dataDir: './custodian-data',
    targets: [{ name: 'target1', reader: 'Nitrokey Nitrokey HSM (DENK01234567890) 00 00' }],
    trustAnchors: ['production'],
    unlock: { maxSeconds: 300, maxSignatures: 100 },
    ceremonyDefaults: { expiresInSeconds: 900 },
  };
}
