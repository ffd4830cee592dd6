/**
 * Signing through an unlocked target with the admin CLI: files hashed locally, signed on the
 * card, detached DER signatures verified by the real openssl CLI; the unlock ends after the
 * configured number of signatures or seconds, and the target is reset.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import type { ServerMessage, UpdateMessage } from '../../../shared/protocol';
import type { ScriptedCustodian } from './harness';
import { adminCli, filesToSign, opensslVerify } from './signing-helpers';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  type TargetHandle,
} from './harness';

let server: RunningServer | undefined;
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

const isUpdate =
  (state: string) =>
  (m: ServerMessage): m is UpdateMessage =>
    m.type === 'update' && m.state === state;

/** 1-of-1 target unlocked by one approval. */
async function unlocked(unlock: { maxSeconds: number; maxSignatures: number }) {
  const target: TargetHandle = { card: await targetCard(1, 1), opens: 0, fail: false };
  server = await startTestServer(target, dataDir(), { unlock });
  const a = await enroll(server, await custodianCard(), 'alice');
  clients.push(a);
  const c = (
    await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'release',
      requester: 'ops',
    })
  ).body;
  await a.approve(await a.offer(c.id));
  await a.waitFor(isUpdate('quorum'));
  return { a, ceremonyId: c.id };
}

const cli = (args: string[]) => adminCli(server!, args);
const files = filesToSign;

describe('sign', () => {
  it('signs 10 files; openssl verifies every signature; manifest lists them', async () => {
    await unlocked({ maxSeconds: 60, maxSignatures: 100 });
    const { paths } = files(10);
    const out = mkdtempSync(join(tmpdir(), 'sigs-'));
    const r = await cli(['sign', '--target', 't1', '--key', 'signer', '--out', out, ...paths]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('[10/10]');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      files: Array<{ file: string; sha256: string; signature: string; size: number }>;
      key: { id: number; label: string };
      target: { deviceId: string };
    };
    expect(manifest.files).toHaveLength(10);
    expect(manifest.key).toMatchObject({ id: 1, label: 'signer' });
    expect(manifest.target.deviceId).toMatch(/^[A-Z]/);
    for (const [i, p] of paths.entries()) {
      expect(opensslVerify(join(out, 'key.pem'), join(out, `file-${i}.bin.sig`), p)).toMatch(
        /Verified OK/,
      );
      expect(manifest.files[i]!.size).toBe(readFileSync(p).length);
    }
    // A changed file does not verify.
    writeFileSync(paths[0]!, 'tampered');
    expect(() =>
      opensslVerify(join(out, 'key.pem'), join(out, 'file-0.bin.sig'), paths[0]!),
    ).toThrow();
    // The P-256 key verifies too.
    const out2 = mkdtempSync(join(tmpdir(), 'sigs-'));
    expect(
      (await cli(['sign', '--target', 't1', '--key', '2', '--out', out2, paths[1]!])).code,
    ).toBe(0);
    expect(opensslVerify(join(out2, 'key.pem'), join(out2, 'file-1.bin.sig'), paths[1]!)).toMatch(
      /Verified OK/,
    );
    expect(readFileSync(join(out2, 'key.pem'), 'utf8')).not.toBe(
      readFileSync(join(out, 'key.pem'), 'utf8'),
    );
  });

  it('the signature limit ends the unlock and resets the target', async () => {
    const { a, ceremonyId } = await unlocked({ maxSeconds: 60, maxSignatures: 3 });
    const { paths } = files(4);
    const out = mkdtempSync(join(tmpdir(), 'sigs-'));
    expect(
      (await cli(['sign', '--target', 't1', '--key', 'signer', '--out', out, ...paths.slice(0, 3)]))
        .code,
    ).toBe(0);
    await a.waitFor(isUpdate('completed'));
    const r = await cli(['sign', '--target', 't1', '--key', 'signer', '--out', out, paths[3]!]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/locked/);
    const st = (
      await adminApi<{ pka: { authenticated: number }; unlocked: unknown }>(
        server!,
        'GET',
        '/api/targets/t1',
      )
    ).body;
    expect(st.pka.authenticated).toBe(0);
    expect(st.unlocked ?? undefined).toBeUndefined();
    expect(
      (await adminApi<{ state: string }>(server!, 'GET', `/api/ceremonies/${ceremonyId}`)).body
        .state,
    ).toBe('completed');
  });

  it('the time limit ends the unlock and resets the target', async () => {
    const { a } = await unlocked({ maxSeconds: 1, maxSignatures: 100 });
    await a.waitFor(isUpdate('completed'), 4000);
    const { paths } = files(1);
    const r = await cli([
      'sign',
      '--target',
      't1',
      '--key',
      'signer',
      '--out',
      mkdtempSync(join(tmpdir(), 's-')),
      paths[0]!,
    ]);
    expect(r.code).toBe(2);
    const st = (
      await adminApi<{ pka: { authenticated: number } }>(server!, 'GET', '/api/targets/t1')
    ).body;
    expect(st.pka.authenticated).toBe(0);
  });

  it('signing without a ceremony is refused before the card is asked', async () => {
    const target: TargetHandle = { card: await targetCard(1, 1), opens: 0, fail: false };
    server = await startTestServer(target, dataDir());
    const { paths } = files(1);
    const r = await cli([
      'sign',
      '--target',
      't1',
      '--key',
      'signer',
      '--out',
      mkdtempSync(join(tmpdir(), 's-')),
      paths[0]!,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/locked: request a ceremony first/);
    const bad = await cli(['sign', '--target', 't1', '--key', 'nope', paths[0]!]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no key "nope"/);
  });
});
