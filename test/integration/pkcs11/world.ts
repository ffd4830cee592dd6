/**
 * World of the PKCS#11 suites: the real server in-process with an emulated 2-of-3 target and
 * its module socket, three custodians enrolled and running the real engine (as `custodian
 * watch` does), a PKCS#11 client credential, the module built by `npm run build:pkcs11` (the
 * ASan/UBSan build by default), and the real tools (pkcs11-tool, openssl, mkimage) spawned
 * with the module's environment.
 */
import { refOf } from '../../../core/custodian/engine-types';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApduChannel } from '../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import type { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { asciiBytes } from '../../../shared/codec/bytes';
import type { ServerConfig } from '../../../server/config';
import { startCustodian, typed, type Custodian } from '../e2e/world';
import { ROOT } from '../e2e/processes';
import {
  adminApi,
  custodianCard,
  dataDir,
  PIN,
  startTestServer,
  targetCard,
  testCa,
  type TargetHandle,
} from '../server/harness';
import { removableCard } from '../faults/world';

/** The module builds (release and ASan/UBSan). */
export const MODULE = {
  release: join(ROOT, 'pkcs11', 'build', 'libcustodian-pkcs11.so'),
  asan: join(ROOT, 'pkcs11', 'build', 'asan', 'libcustodian-pkcs11.so'),
  fuzz: join(ROOT, 'pkcs11', 'build', 'asan', 'fuzz-reply'),
  /** Many files, one session, one login (pkcs11/test/sign-files.c). */
  driver: join(ROOT, 'pkcs11', 'build', 'p11-sign-files'),
};

let built = false;
/** Builds the module (once per test file; the build renames atomically). */
export function buildModule(): void {
  if (built) return;
  execFileSync(process.execPath, [join(ROOT, 'build', 'pkcs11.mjs')], { stdio: 'pipe' });
  built = true;
}

/** The sanitizer runtimes a host process needs before it can load the ASan build. */
export function asanPreload(): string {
  const lib = (name: string) =>
    execFileSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
  return [lib('libasan.so'), lib('libubsan.so')].join(':');
}

/** True when `cmd` is on PATH. */
export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Result of a spawned tool. */
export type Ran = { code: number | null; out: string; err: string };

/** Runs a tool to completion without blocking the event loop (the server is in-process). */
export function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: { ms?: number; cwd?: string; input?: Buffer } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(cmd, [...args], {
      env: { ...process.env, ...env },
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.ms ?? 120_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    p.stdin.end(opts.input);
  });
}

/**
 * Adds an RSA-2048 key labelled `label` to a target card before the server owns it, with the
 * user PIN as the harness's targetCard does (core's generateRsaSigningKey: PKCS#1 v1.5 and PSS
 * over a supplied hash). Returns its key id.
 */
export async function addRsaKey(card: EmulatedSmartCardHsm, label: string): Promise<number> {
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.verifyPin(asciiBytes(PIN));
  const key = await hsm.generateRsaSigningKey({ label, bits: 2048 });
  await t.close('reset');
  return key.keyId;
}

/** Starts the world: server + module socket, three enrolled custodians, a PKCS#11 client. */
export async function pkcs11World(
  opts: {
    unlock?: ServerConfig['unlock'];
    expiresInSeconds?: number;
    names?: readonly string[];
  } = {},
) {
  buildModule();
  const target: TargetHandle = { card: await targetCard(3, 2), opens: 0, fail: false };
  // Keys 1 (brainpoolP256r1) and 2 (P-256) come with targetCard; key 3 is RSA-2048.
  if ((await addRsaKey(target.card, 'release-rsa')) !== 3) throw new Error('RSA key is not key 3');
  const dir = dataDir();
  const socket = join(dir.dir, 'p11', 'pkcs11.sock');
  const server = await startTestServer(target, dir, {
    unlock: opts.unlock ?? { maxSeconds: 120, maxSignatures: 100 },
    ceremonyDefaults: { expiresInSeconds: opts.expiresInSeconds ?? 600 },
    pkcs11: { socket },
  });
  const custodians: Custodian[] = [];
  for (const name of opts.names ?? ['alice', 'bob', 'carol']) {
    const c = await custodianCard();
    const card = removableCard(c.card);
    const inv = await adminApi<{ token: string }>(server, 'POST', '/api/enrollments', {
      target: 't1',
      name,
    });
    const key = { keyId: c.keyId, chr: c.chr };
    const enrolling = startCustodian({
      name,
      url: server.wsUrl,
      auth: { kind: 'enroll', token: inv.body.token, pka: c.pka, keyId: c.keyId },
      ca: testCa(),
      key,
      openCard: card.openCard,
    });
    const e = await enrolling.next((x) => x.type === 'enrolled', 'enrollment');
    enrolling.engine.stop();
    enrolling.audit.close();
    if (e.type !== 'enrolled') throw new Error('not enrolled');
    custodians.push(
      startCustodian({
        name,
        url: server.wsUrl,
        auth: { kind: 'session', custodianId: e.custodianId, credential: e.credential },
        ca: testCa(),
        key,
        openCard: card.openCard,
      }),
    );
  }
  const created = await adminApi<{ credential: string }>(server, 'POST', '/api/pkcs11-clients', {
    name: 'build01',
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const home = mkdtempSync(join(tmpdir(), 'pkcs11-home-'));
  mkdirSync(join(home, 'config'), { recursive: true });
  const log = join(home, 'pkcs11.log');
  /** The module's environment (docs/pkcs11.md "Configuration"). */
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    XDG_CONFIG_HOME: join(home, 'config'),
    CUSTODIAN_PKCS11_SOCKET: socket,
    CUSTODIAN_PKCS11_CREDENTIAL: created.body.credential,
    CUSTODIAN_PKCS11_PURPOSE: 'pkcs11 test signing',
    CUSTODIAN_PKCS11_REQUESTER: 'ci',
    CUSTODIAN_PKCS11_LOG: log,
    ...extra,
  });
  /** The ASan environment for a host process loading the ASan build. */
  const asanEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
    env({
      LD_PRELOAD: asanPreload(),
      // The host tools' own leaks are not ours to report; memory errors abort.
      ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
      ...extra,
    });
  /** Approves the next ceremony offer with the first `k` custodians (the real engine). */
  const answered = new Set<string>();
  const approve = async (k = 2): Promise<string> => {
    let ceremonyId = '';
    for (const c of custodians.slice(0, k)) {
      const e = await c.next(
        (x) =>
          x.type === 'offer-added' &&
          !answered.has(`${c.name} ${x.offer.verified.offer.ceremonyId}`),
        `${c.name} offer`,
        60_000,
      );
      if (e.type !== 'offer-added') throw new Error('no offer');
      ceremonyId = e.offer.verified.offer.ceremonyId;
      answered.add(`${c.name} ${ceremonyId}`);
      const r = await c.engine.approve(refOf(e.offer), typed(PIN).source);
      if (r.kind !== 'approved') throw new Error(`${c.name}: ${JSON.stringify(r)}`);
    }
    return ceremonyId;
  };
  const stop = async () => {
    for (const c of custodians) {
      c.engine.stop();
      c.audit.close();
    }
    await server.stop();
  };
  return { server, target, dir, socket, custodians, env, asanEnv, approve, log, home, stop };
}
export type Pkcs11World = Awaited<ReturnType<typeof pkcs11World>>;

/** Audit entries of the server (newest last). */
export async function auditEntries(w: Pkcs11World) {
  const r = await adminApi<{ entries: { event: string; data: Record<string, unknown> }[] }>(
    w.server,
    'GET',
    '/api/audit?limit=1000',
  );
  return r.body.entries;
}

/** One raw exchange on the module socket (hello, then `req`): the reply's CK_RV. */
export async function rawRequest(
  socket: string,
  credential: string,
  req: Record<string, unknown>,
): Promise<number[]> {
  const s = connect(socket);
  const frame = (o: unknown) => {
    const body = Buffer.from(JSON.stringify(o));
    const h = Buffer.alloc(4);
    h.writeUInt32BE(body.length, 0);
    return Buffer.concat([h, body]);
  };
  const rvs: number[] = [];
  let buf = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('close', () => resolve());
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const body = buf.subarray(4, 4 + buf.readUInt32BE(0));
        buf = buf.subarray(4 + body.length);
        // The first item of every reply is the CK_RV (tag 01, length 4).
        rvs.push(body.readUInt32BE(5));
        if (rvs.length === 2 || rvs[0] !== 0) s.end();
      }
    });
    s.write(frame({ v: 1, op: 'hello', credential }));
    s.write(frame(req));
  });
  return rvs;
}
