/**
 * `custodian-server sign` in batches: one admin request (and one `signed` audit entry) per
 * batch of up to 64 digests, batch boundaries at 0, 1, 64 and 65 files, and an unlock window
 * that runs out part-way through a batch or exactly at a batch boundary: what was allowed is
 * signed, written and listed; the rest is named as not signed, with the reason and exit 2.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import { SIGN_BATCH_SIZE } from '../../../server/admin-cli/sign-batch';
import type { ServerMessage, UpdateMessage } from '../../../shared/protocol';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  type ScriptedCustodian,
  type TargetHandle,
} from './harness';
import { adminCli, opensslVerify } from './signing-helpers';

let server: RunningServer | undefined;
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

const isQuorum = (m: ServerMessage): m is UpdateMessage =>
  m.type === 'update' && m.state === 'quorum';

/** 1-of-1 target unlocked by one approval, `maxSignatures` allowed. */
async function unlocked(maxSignatures: number): Promise<void> {
  const target: TargetHandle = { card: await targetCard(1, 1), opens: 0, fail: false };
  server = await startTestServer(target, dataDir(), { unlock: { maxSeconds: 120, maxSignatures } });
  const a = await enroll(server, await custodianCard(), 'alice');
  clients.push(a);
  const c = (
    await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'batch signing',
      requester: 'ops',
    })
  ).body;
  await a.approve(await a.offer(c.id));
  await a.waitFor(isQuorum);
}

/** `n` small files with distinct content. */
function smallFiles(n: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'batch-files-'));
  return Array.from({ length: n }, (_, i) => {
    const p = join(dir, `f${String(i).padStart(3, '0')}.bin`);
    writeFileSync(p, `artefact ${i} `.repeat(i + 1));
    return p;
  });
}

type SignedEntry = {
  event: string;
  data: { count: number; digests: string[]; requested?: number };
};

/** The `signed` audit entries, oldest first. */
async function signedAudit(): Promise<SignedEntry['data'][]> {
  const r = await adminApi<{ entries: SignedEntry[] }>(server!, 'GET', '/api/audit?limit=1000');
  return r.body.entries.filter((e) => e.event === 'signed').map((e) => e.data);
}

type Manifest = {
  files: Array<{ file: string; sha256: string }>;
  notSigned?: Array<{ file: string; reason: string }>;
};
const manifestOf = (out: string): Manifest =>
  JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;

const sign = (paths: string[], out: string) =>
  adminCli(server!, ['sign', '--target', 't1', '--key', 'signer', '--out', out, ...paths]);

describe('sign in batches', () => {
  it('batch size is 64', () => {
    expect(SIGN_BATCH_SIZE).toBe(64);
  });

  it('0 files: refused before any request, nothing signed or written', async () => {
    await unlocked(100);
    const out = join(mkdtempSync(join(tmpdir(), 'sigs-')), 'out');
    const r = await sign([], out);
    expect(r.code).toBe(2);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(await signedAudit()).toEqual([]);
  });

  it.each([
    [1, [1]],
    [64, [64]],
    [65, [64, 1]],
  ])('%i file(s): one request and audit entry per batch %j', async (n, batches) => {
    await unlocked(1000);
    const paths = smallFiles(n);
    const out = mkdtempSync(join(tmpdir(), 'sigs-'));
    const r = await sign(paths, out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const audit = await signedAudit();
    expect(audit.map((a) => a.count)).toEqual(batches);
    const m = manifestOf(out);
    expect(m.files).toHaveLength(n);
    expect(m.notSigned).toBeUndefined();
    // The audit lists exactly the digests of the manifest, in order.
    expect(audit.flatMap((a) => a.digests)).toEqual(m.files.map((f) => f.sha256));
    // Per-file progress lines, one per file.
    for (let i = 1; i <= n; i++) expect(r.out).toContain(`[${i}/${n}] `);
    for (const i of new Set([0, n - 1])) {
      const name = `f${String(i).padStart(3, '0')}.bin`;
      expect(opensslVerify(join(out, 'key.pem'), join(out, `${name}.sig`), paths[i]!)).toMatch(
        /Verified OK/,
      );
    }
  });

  it('window runs out in the middle of the second batch: 70 signed, 30 named as not signed', async () => {
    await unlocked(70);
    const paths = smallFiles(100);
    const out = mkdtempSync(join(tmpdir(), 'sigs-'));
    const r = await sign(paths, out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/70 of 100 file\(s\) signed/);
    expect(r.err).toMatch(/30 NOT signed \(f070\.bin, .* and 20 more\): .*locked/);
    expect(r.out).toContain('[70/100] f069.bin signed');
    expect(r.out).toMatch(/\[71\/100\] f070\.bin NOT signed: .*locked/);
    expect(r.out).toMatch(/\[100\/100\] f099\.bin NOT signed/);
    const audit = await signedAudit();
    expect(audit.map((a) => [a.count, a.requested])).toEqual([
      [64, undefined],
      [6, 36],
    ]);
    const m = manifestOf(out);
    expect(m.files.map((f) => f.file)).toEqual(
      paths.slice(0, 70).map((p) => p.slice(p.lastIndexOf('/') + 1)),
    );
    expect(m.notSigned).toHaveLength(30);
    expect(m.notSigned![0]).toMatchObject({
      file: 'f070.bin',
      reason: expect.stringMatching(/locked/),
    });
    expect(existsSync(join(out, 'f069.bin.sig'))).toBe(true);
    expect(existsSync(join(out, 'f070.bin.sig'))).toBe(false);
    expect(opensslVerify(join(out, 'key.pem'), join(out, 'f069.bin.sig'), paths[69]!)).toMatch(
      /Verified OK/,
    );
  });

  it('window runs out inside the first batch: 3 of 5 signed', async () => {
    await unlocked(3);
    const paths = smallFiles(5);
    const out = mkdtempSync(join(tmpdir(), 'sigs-'));
    const r = await sign(paths, out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/3 of 5 file\(s\) signed.*2 NOT signed \(f003\.bin, f004\.bin\)/);
    expect((await signedAudit()).map((a) => [a.count, a.requested])).toEqual([[3, 5]]);
    expect(manifestOf(out).files).toHaveLength(3);
  });

  it('window runs out exactly at a batch boundary: 64 signed, the 65th refused', async () => {
    await unlocked(64);
    const paths = smallFiles(65);
    const out = mkdtempSync(join(tmpdir(), 'sigs-'));
    const r = await sign(paths, out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/64 of 65 file\(s\) signed.*1 NOT signed \(f064\.bin\): .*locked/);
    expect((await signedAudit()).map((a) => a.count)).toEqual([64]);
    const m = manifestOf(out);
    expect(m.files).toHaveLength(64);
    expect(m.notSigned).toEqual([{ file: 'f064.bin', reason: expect.stringMatching(/locked/) }]);
  });

  it('a path that is not a file (even in a later batch) is refused before anything is signed', async () => {
    await unlocked(1000);
    const paths = smallFiles(65);
    const out = mkdtempSync(join(tmpdir(), 'sigs-'));
    const r = await sign([...paths, join(out, 'missing.bin')], out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a file: .*missing\.bin/);
    expect(await signedAudit()).toEqual([]);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });
});
