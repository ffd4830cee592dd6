/**
 * `target keygen` / `POST /api/targets/:t/keys`: a signing key generated ON the target, only
 * inside the unlock window a quorum opened (the card needs user authentication and with PKA the
 * quorum is that authentication, docs/card-reference.md §6.7). The target is initialized by the server
 * (PKA only, no user PIN), the quorum comes from in-process custodians, the new key signs files
 * and openssl verifies them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import type { ServerMessage, UpdateMessage } from '../../../shared/protocol';
import { removableCard } from '../faults/world';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  testCa,
  type ScriptedCustodian,
} from './harness';
import { adminCli, filesToSign, opensslVerify } from './signing-helpers';

/** What each test started, undone after it (custodians first, then the server). */
const started: Array<() => unknown> = [];
afterEach(async () => {
  for (const undo of started.splice(0).reverse()) await undo();
});

const isUpdate =
  (state: string) =>
  (m: ServerMessage): m is UpdateMessage =>
    m.type === 'update' && m.state === state;

/** GENERATE ASYMMETRIC KEY PAIR commands the target card received. */
const keygens = (apdus: readonly string[]) => apdus.filter((a) => a.startsWith('0046')).length;

/**
 * A factory-fresh target (APDUs recorded) behind a server; initialized 2-of-2 with the admin
 * CLI, two custodians enrolled.
 */
async function world(maxSignatures: number) {
  const card = new EmulatedSmartCardHsm(
    createDeviceState(testCa(), { serial: 9000 + Math.floor(Math.random() * 900) }),
  );
  const target = removableCard(card);
  const server = await startTestServer(
    { card, opens: 0, fail: false },
    dataDir(),
    { unlock: { maxSeconds: 60, maxSignatures } },
    { openerFor: () => target.openCard, log: () => undefined },
  );
  started.push(() => server.stop());
  const cli = (args: string[]) => adminCli(server, args);
  const init = await cli(['target', 'init', '--target', 't1', '--m', '2', '--n', '2']);
  expect(init.err).toBe('');
  expect(init.code).toBe(0);
  const clients: ScriptedCustodian[] = [];
  for (const name of ['alice', 'bob']) {
    const c = await enroll(server, await custodianCard(), name);
    started.push(() => c.close());
    clients.push(c);
  }
  type Status = { unlocked: { ceremonyId: string; signaturesLeft: number } | null };
  return {
    server,
    target,
    clients,
    cli,
    api: <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
      adminApi<T>(server, method, path, body),
    status: async () => (await adminApi<Status>(server, 'GET', '/api/targets/t1')).body,
    /** A ceremony both custodians approve; resolves at quorum with its id. */
    quorum: async (): Promise<string> => {
      const c = await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
        target: 't1',
        purpose: 'create the release key',
        requester: 'ops',
      });
      expect(c.status).toBe(201);
      for (const cl of clients) await cl.approve(await cl.offer(c.body.id));
      await clients[0]!.waitFor(isUpdate('quorum'));
      return c.body.id;
    },
  };
}

const pemIn = (text: string) =>
  /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(text)?.[0];

describe('target keygen', () => {
  it('is refused outside an unlock window without touching the card', async () => {
    const w = await world(5);
    const { target, cli } = w;
    const before = target.apdus.length;
    const r = await cli(['target', 'keygen', '--target', 't1', '--label', 'release']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/target t1 is locked: request a ceremony first/);
    expect(target.apdus.slice(before)).toEqual([]);
    const api = await w.api<{ code: string }>('POST', '/api/targets/t1/keys', {
      label: 'release',
    });
    expect(api.status).toBe(409);
    expect(api.body.code).toBe('locked');
    expect(keygens(target.apdus)).toBe(0);
    expect((await w.api('GET', '/api/targets/t1/keys')).body).toEqual({ keys: [] });
  });

  it('generates inside the window (no signature spent), audited; the key signs files openssl verifies', async () => {
    const w = await world(4);
    const { target, cli } = w;
    const ceremonyId = await w.quorum();
    expect((await w.status()).unlocked).toMatchObject({ ceremonyId, signaturesLeft: 4 });

    const r = await cli([
      'target',
      'keygen',
      '--target',
      't1',
      '--label',
      'release',
      '--curve',
      'secp256r1',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const m = /generated key (\d+) "release" \(CHR (\S+), secp256r1\)/.exec(r.out);
    expect(m).not.toBeNull();
    expect(r.out).toContain(ceremonyId);
    const printedPem = pemIn(r.out);
    expect(printedPem).toBeDefined();
    expect(keygens(target.apdus)).toBe(1);
    // An operation of the window, not a signature.
    expect((await w.status()).unlocked).toMatchObject({ ceremonyId, signaturesLeft: 4 });
    const audit = await w.api<{
      entries: Array<{ event: string; data: Record<string, unknown> }>;
    }>('GET', '/api/audit?limit=50');
    expect(audit.body.entries.filter((e) => e.event === 'key-generated')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          keyId: Number(m![1]),
          label: 'release',
          chr: m![2],
          curve: 'secp256r1',
          ceremonyId,
        }),
      }),
    ]);

    // The default curve through the API; a taken label is refused before any generation.
    const second = await w.api<{ id: number; curve: string; chr: string; publicKeyPem: string }>(
      'POST',
      '/api/targets/t1/keys',
      { label: 'release-bp' },
    );
    expect(second.status).toBe(201);
    expect(second.body.curve).toBe('brainpoolP256r1');
    expect(second.body.id).not.toBe(Number(m![1]));
    expect(second.body.chr).not.toBe(m![2]);
    const dup = await w.api<{ code: string }>('POST', '/api/targets/t1/keys', {
      label: 'release',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('duplicate');
    expect(keygens(target.apdus)).toBe(2);

    // Both keys sign; openssl verifies with the key the signer wrote, which is the printed one.
    const { paths } = filesToSign(3);
    const out = mkdtempSync(join(tmpdir(), 'keygen-sigs-'));
    const signed = await cli([
      'sign',
      '--target',
      't1',
      '--key',
      'release',
      '--out',
      out,
      ...paths,
    ]);
    expect(signed.err).toBe('');
    expect(signed.code).toBe(0);
    expect(readFileSync(join(out, 'key.pem'), 'utf8').trim()).toBe(printedPem!.trim());
    for (const p of paths) {
      const name = p.split('/').at(-1)!;
      expect(opensslVerify(join(out, 'key.pem'), join(out, `${name}.sig`), p)).toMatch(
        /Verified OK/,
      );
    }
    const out2 = mkdtempSync(join(tmpdir(), 'keygen-sigs-'));
    expect(
      (await cli(['sign', '--target', 't1', '--key', 'release-bp', '--out', out2, paths[0]!])).code,
    ).toBe(0);
    expect(readFileSync(join(out2, 'key.pem'), 'utf8').trim()).toBe(
      second.body.publicKeyPem.trim(),
    );
    const name0 = paths[0]!.split('/').at(-1)!;
    expect(opensslVerify(join(out2, 'key.pem'), join(out2, `${name0}.sig`), paths[0]!)).toMatch(
      /Verified OK/,
    );
    // A signature of one key does not verify under the other (the checks above can fail).
    expect(() =>
      opensslVerify(join(out2, 'key.pem'), join(out, `${name0}.sig`), paths[0]!),
    ).toThrow();

    // The fourth signature ended the window: key generation is refused again.
    await w.clients[0]!.waitFor(isUpdate('completed'));
    const after = await w.api<{ code: string }>('POST', '/api/targets/t1/keys', {
      label: 'late',
    });
    expect(after.status).toBe(409);
    expect(after.body.code).toBe('locked');
    expect(keygens(target.apdus)).toBe(2);
  });

  it('--type rsa:3072: an RSA key generated in the window, listed, and files signed that openssl verifies', async () => {
    const w = await world(3);
    const { cli } = w;
    await w.quorum();
    const r = await cli([
      'target',
      'keygen',
      '--target',
      't1',
      '--label',
      'fit',
      '--type',
      'rsa:3072',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/generated key 1 "fit" \(CHR \S+, rsa:3072\)/);
    const pem = pemIn(r.out)!;
    const text = execFileSync('openssl', ['pkey', '-pubin', '-noout', '-text'], { input: pem });
    expect(text.toString()).toMatch(/Public-Key: \(3072 bit\)/);
    expect((await w.api('GET', '/api/targets/t1/keys')).body).toEqual({
      keys: [{ id: 1, label: 'fit', type: 'rsa', size: 3072 }],
    });
    const { paths } = filesToSign(2);
    const out = mkdtempSync(join(tmpdir(), 'keygen-rsa-'));
    const signed = await cli(['sign', '--target', 't1', '--key', 'fit', '--out', out, ...paths]);
    expect(signed.err).toBe('');
    expect(signed.code).toBe(0);
    expect(readFileSync(join(out, 'key.pem'), 'utf8').trim()).toBe(pem.trim());
    for (const p of paths) {
      const sig = join(out, `${p.split('/').at(-1)!}.sig`);
      expect(readFileSync(sig).length).toBe(384); // the bare RSA signature of a 3072-bit key
      expect(opensslVerify(join(out, 'key.pem'), sig, p)).toMatch(/Verified OK/);
    }
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.algorithm).toBe('RSA PKCS#1 v1.5 with SHA-256');
    // Audited with its type; --type and --curve together are refused by the CLI.
    const audit = await w.api<{ entries: Array<{ event: string; data: Record<string, unknown> }> }>(
      'GET',
      '/api/audit?limit=50',
    );
    expect(audit.body.entries.find((e) => e.event === 'key-generated')?.data).toMatchObject({
      keyType: 'rsa:3072',
      label: 'fit',
    });
    const both = await cli([
      'target',
      'keygen',
      '--target',
      't1',
      '--label',
      'y',
      '--type',
      'rsa:2048',
      '--curve',
      'secp256r1',
    ]);
    expect(both.code).toBe(2);
    for (const type of ['rsa:1024', 'rsa:8192', 'ec:secp384r1', 'rsa']) {
      const bad = await w.api('POST', '/api/targets/t1/keys', { label: 'z', type });
      expect(bad.status, type).toBe(400);
    }
  }, 120_000);

  it('validates label and curve', async () => {
    const w = await world(5);
    const { cli } = w;
    await w.quorum();
    for (const body of [
      { label: '' },
      { label: '12' },
      { label: 'x'.repeat(65) },
      { label: ' leading space' },
      { label: 'ok', curve: 'secp384r1' },
      { label: 'ok', extra: 1 },
      { curve: 'secp256r1' },
    ]) {
      const r = await w.api('POST', '/api/targets/t1/keys', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    const bad = await cli([
      'target',
      'keygen',
      '--target',
      't1',
      '--label',
      'x',
      '--curve',
      'p384',
    ]);
    expect(bad.code).toBe(2);
    expect((await w.api('GET', '/api/targets/t1/keys')).body).toEqual({ keys: [] });
    // --json gives the whole answer.
    const j = await cli(['target', 'keygen', '--target', 't1', '--label', 'x', '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({ id: 1, label: 'x', curve: 'brainpoolP256r1' });
  });
});
