/**
 * Admin subcommands that talk to a running server: target, enroll, ceremony, audit.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ADMIN_API, type snapshotSchema } from '../api/admin-contract';
import { api, events, type Connected } from './admin-client';
import { consistencyLines } from './consistency-commands';
import { UsageError, type CliIo } from './errors';
import { messageOf } from '../../shared/error-message';
import { singleLineSafe } from '../../shared/text/terminal-safe';

/** A ceremony snapshot as the contract defines it. */
type Snapshot = z.output<typeof snapshotSchema>;

const FINAL = new Set(['completed', 'expired', 'cancelled', 'failed']);

function intOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer ${min}–${max}`);
  }
  return Number(value);
}

function line(s: Snapshot): string {
  const p = s.progress;
  const who = p.approvedBy.length > 0 ? ` (${p.approvedBy.join(', ')})` : '';
  const extra = s.unlocked
    ? `, unlocked until ${s.unlocked.until}, ${s.unlocked.signaturesLeft} signatures left`
    : '';
  const reason = s.reason ? ` — ${s.reason}` : '';
  return `${s.id} ${s.state}: ${p.authenticated}/${s.quorum.n} authenticated${who}${extra}${reason}\n`;
}

/** `target init`. */
export async function targetInit(
  o: Connected & {
    target: string;
    m: string;
    n: string;
    soPin?: string;
    replaceableKeys?: boolean;
  },
  io: CliIo,
) {
  const m = intOption(o.m, 'm', 1, 90)!;
  const n = intOption(o.n, 'n', 1, 90)!;
  if (n > m) throw new UsageError('--n (required) must not exceed --m (keys)');
  const r = await api(
    o.conn,
    ADMIN_API.initialize,
    `/api/targets/${encodeURIComponent(o.target)}/initialize`,
    {
      m,
      n,
      ...(o.soPin === undefined ? {} : { soPin: o.soPin }),
      ...(o.replaceableKeys ? { replaceableKeys: true } : {}),
    },
  );
  io.out(
    `target ${o.target} (device ${r.deviceId}) initialized for ${n}-of-${m} public key authentication\n`,
  );
  if (r.soPin) io.out(`SO-PIN (generated, shown once — store it safely): ${r.soPin}\n`);
}

/** `target status`. */
export async function targetStatus(o: Connected & { target: string; json?: boolean }, io: CliIo) {
  const s = await api(
    o.conn,
    ADMIN_API.targetStatus,
    `/api/targets/${encodeURIComponent(o.target)}`,
  );
  if (o.json) return io.out(`${JSON.stringify(s, null, 2)}\n`);
  io.out(`target ${s.name}: ${s.connected ? `device ${s.deviceId}` : 'not reachable'}\n`);
  io.out(consistencyLines(s.name, s.consistency));
  if (s.pka) {
    io.out(
      `  PKA ${s.pka.n}-of-${s.pka.m}: ${s.pka.m - s.pka.missing} registered, ${s.pka.authenticated} authenticated now\n`,
    );
  } else if (s.connected) io.out('  not set up for PKA\n');
  io.out(
    s.unlocked
      ? `  UNLOCKED by ${s.unlocked.ceremonyId} until ${s.unlocked.until} (${s.unlocked.signaturesLeft} signatures left)\n`
      : '  locked\n',
  );
  for (const c of s.custodians)
    io.out(`  custodian ${c.name}: key ${c.keyChr}${c.enrolled ? '' : ' (not yet connected)'}\n`);
}

/** `target keygen`: a signing key generated on the target inside its unlock window (the server checks label and type). */
export async function targetKeygen(
  o: Connected & {
    target: string;
    label: string;
    curve?: string;
    type?: string;
    json?: boolean;
  },
  io: CliIo,
) {
  const k = await api(
    o.conn,
    ADMIN_API.keygen,
    `/api/targets/${encodeURIComponent(o.target)}/keys`,
    {
      label: o.label,
      ...(o.curve === undefined ? {} : { curve: o.curve }),
      ...(o.type === undefined ? {} : { type: o.type }),
    },
  );
  if (o.json) return io.out(`${JSON.stringify(k, null, 2)}\n`);
  io.out(
    `generated key ${k.id} "${k.label}" (CHR ${k.chr}, ${k.curve ?? k.keyType}) on target ${o.target} (device ${k.deviceId}) in the unlock window of ${k.ceremonyId}\n`,
  );
  io.out(k.publicKeyPem.endsWith('\n') ? k.publicKeyPem : `${k.publicKeyPem}\n`);
}

/** `target lock`. */
export async function targetLock(o: Connected & { target: string }, io: CliIo) {
  await api(o.conn, ADMIN_API.lock, `/api/targets/${encodeURIComponent(o.target)}/lock`);
  io.out(`target ${o.target} reset; every authentication is gone\n`);
}

/** An invite as the admin API returns it. */
type InviteReply = {
  url: string;
  fingerprint?: string | null | undefined;
  serverName?: string | undefined;
  token: string;
  expiresAt: string;
};

/**
 * The invitation letter lines: the desktop app reads this very text when the custodian pastes
 * it (shared/ipc/invitation.ts), so the labels are part of that contract.
 */
export function inviteLetter(inv: InviteReply): string {
  // The name comes from the server: never let it move the cursor or colour the admin's terminal.
  const name =
    inv.serverName === undefined ? '' : `server name:      ${singleLineSafe(inv.serverName)}\n`;
  return (
    name +
    `server URL:       ${inv.url}\n` +
    `TLS fingerprint:  ${inv.fingerprint ?? '(none: plain ws on loopback)'}\n` +
    `enrollment token: ${inv.token}\n` +
    `valid until:      ${inv.expiresAt} (single use)\n`
  );
}

function printInvite(io: CliIo, inv: InviteReply) {
  io.out(inviteLetter(inv));
}

/** `enroll create`. */
export async function enrollCreate(
  o: Connected & { target: string; name: string; expires?: string },
  io: CliIo,
) {
  const expiresInSeconds = intOption(o.expires, 'expires', 60, 30 * 86_400);
  const r = await api(o.conn, ADMIN_API.enroll, '/api/enrollments', {
    target: o.target,
    name: o.name,
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  });
  io.out(`invite for ${o.name} at target ${o.target}:\n`);
  printInvite(io, r);
}

/** `enroll pka`. */
export async function enrollPka(
  o: Connected & { target: string; name: string; pka: string },
  io: CliIo,
) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(o.pka);
  } catch (e) {
    throw new UsageError(`cannot read ${o.pka}: ${messageOf(e)}`);
  }
  const r = await api(
    o.conn,
    ADMIN_API.registerPka,
    `/api/targets/${encodeURIComponent(o.target)}/custodians`,
    {
      name: o.name,
      pka: bytes.toString('hex'),
    },
  );
  io.out(`key ${r.custodian.keyChr} of ${o.name} verified and registered at target ${o.target}\n`);
  io.out('invite (the custodian connects with the same .pka):\n');
  printInvite(io, r.invite);
}

/** `ceremony request`. */
export async function ceremonyRequest(
  o: Connected & {
    target: string;
    purpose: string;
    requester: string;
    expires?: string;
    json?: boolean;
  },
  io: CliIo,
) {
  const expiresInSeconds = intOption(o.expires, 'expires', 10, 3600);
  const s = await api(o.conn, ADMIN_API.requestCeremony, '/api/ceremonies', {
    target: o.target,
    purpose: o.purpose,
    requester: o.requester,
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  });
  if (o.json) return io.out(`${JSON.stringify(s, null, 2)}\n`);
  io.out(
    `ceremony ${s.id} opened at ${s.target}: ${s.quorum.n} of ${s.quorum.m} custodians needed, expires ${s.expiresAt}\n`,
  );
}

/** `ceremony status`. */
export async function ceremonyStatus(
  o: Connected & { id: string; watch?: boolean; json?: boolean },
  io: CliIo,
) {
  const server = o.conn;
  const path = `/api/ceremonies/${encodeURIComponent(o.id)}`;
  const show = (s: Snapshot) => io.out(o.json ? `${JSON.stringify(s)}\n` : line(s));
  if (!o.watch) return show(await api(server, ADMIN_API.ceremony, path));
  let last: Snapshot | undefined;
  await events(server, ADMIN_API.ceremonyEvents, `${path}/events`, (d) => {
    last = d;
    show(d);
  });
  if (last && !FINAL.has(last.state)) throw new Error('the server closed the progress stream');
}

/** `ceremony cancel`. */
export async function ceremonyCancel(o: Connected & { id: string }, io: CliIo) {
  const s = await api(
    o.conn,
    ADMIN_API.cancelCeremony,
    `/api/ceremonies/${encodeURIComponent(o.id)}/cancel`,
  );
  io.out(line(s));
}

/** `audit`. */
export async function auditShow(o: Connected & { limit?: string; json?: boolean }, io: CliIo) {
  const limit = intOption(o.limit, 'limit', 1, 1000) ?? 50;
  const r = await api(o.conn, ADMIN_API.audit, `/api/audit?limit=${limit}`);
  if (o.json) return io.out(`${JSON.stringify(r, null, 2)}\n`);
  for (const e of r.entries) io.out(`${e.seq} ${e.time} ${e.event} ${JSON.stringify(e.data)}\n`);
  io.out(
    r.verified
      ? `audit chain intact: ${r.verified.entries} entries, head ${r.verified.head.slice(0, 16)}…\n`
      : `AUDIT CHAIN BROKEN: ${r.error?.message}\n`,
  );
  if (!r.verified) throw new Error('audit chain verification failed');
}
