/**
 * Failures through the module, each a clean PKCS#11 error with nothing signed that should not
 * be, and each audited: the unlock window used up or expired in the middle of a run (one
 * process, one login: pkcs11/test/sign-files.c), the server restarted while C_Login waits,
 * custodians declining, a wrong or revoked client credential, an unknown key.
 */
import { randomBytes, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adminApi, startTestServer } from '../server/harness';
import {
  auditEntries,
  have,
  MODULE,
  pkcs11World,
  rawRequest,
  run,
  type Pkcs11World,
} from './world';

const CKM_ECDSA_SHA256 = '1044';
let w: Pkcs11World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
}, 60_000);

function files(n: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'p11-files-'));
  return Array.from({ length: n }, (_, i) => {
    const f = join(dir, `artifact-${i}.bin`);
    writeFileSync(f, `artifact ${i} ${randomBytes(8).toString('hex')}\n`);
    return f;
  });
}

async function publicKey(world: Pkcs11World, id: number): Promise<string> {
  const k = await adminApi<{ publicKeyPem: string }>(
    world.server,
    'GET',
    `/api/targets/t1/keys/${id}`,
  );
  return k.body.publicKeyPem;
}

const signedByModule = async (world: Pkcs11World) =>
  (await auditEntries(world)).filter((e) => e.event === 'signed' && e.data.via === 'pkcs11');

describe.skipIf(!have('pkcs11-tool') && process.env.CI !== 'true')('PKCS#11 failures', () => {
  it('window used up mid-run: CKR_USER_NOT_LOGGED_IN after the last allowed signature', async () => {
    w = await pkcs11World({ unlock: { maxSeconds: 120, maxSignatures: 3 } });
    const list = files(5);
    const signing = run(
      MODULE.driver,
      [MODULE.asan, 't1', '02', CKM_ECDSA_SHA256, '0', ...list],
      w.asanEnv(),
    );
    await w.approve(2);
    const r = await signing;
    expect(r.err).not.toMatch(/AddressSanitizer|runtime error/);
    expect(r.out).toMatch(/artifact-3\.bin: C_Sign failed: 0x101\b/);
    expect(r.out).toMatch(/signed 3 of 5/);
    expect(r.code).toBe(1);
    const pem = await publicKey(w, 2);
    for (const f of list.slice(0, 3)) {
      const sig = readFileSync(`${f}.sig`);
      expect(verify('sha256', readFileSync(f), { key: pem, dsaEncoding: 'ieee-p1363' }, sig)).toBe(
        true,
      );
    }
    expect(existsSync(`${list[3]}.sig`)).toBe(false);
    expect(existsSync(`${list[4]}.sig`)).toBe(false);
    expect(await signedByModule(w)).toHaveLength(3);
    const refused = (await auditEntries(w)).filter((e) => e.event === 'pkcs11-refused');
    expect(refused.at(-1)?.data).toMatchObject({
      client: 'build01',
      op: 'sign',
      rv: 0x101,
      keyId: 2,
    });
  }, 180_000);

  it('window expired mid-run: CKR_USER_NOT_LOGGED_IN, the rest unsigned', async () => {
    w = await pkcs11World({ unlock: { maxSeconds: 4, maxSignatures: 100 } });
    const list = files(8);
    const signing = run(
      MODULE.driver,
      [MODULE.asan, 't1', '02', CKM_ECDSA_SHA256, '1500', ...list],
      w.asanEnv(),
    );
    await w.approve(2);
    const r = await signing;
    const m = /signed (\d+) of 8/.exec(r.out);
    expect(m, r.out + r.err).not.toBeNull();
    const k = Number(m![1]);
    expect(k).toBeGreaterThanOrEqual(1);
    expect(k).toBeLessThan(8);
    expect(r.out).toMatch(/C_Sign failed: 0x101\b/);
    expect(await signedByModule(w)).toHaveLength(k);
    for (const f of list.slice(k)) expect(existsSync(`${f}.sig`)).toBe(false);
  }, 180_000);

  it('declined by the custodians: C_Login fails with CKR_FUNCTION_REJECTED, nothing signed', async () => {
    w = await pkcs11World();
    const world = w;
    const signing = run(
      MODULE.driver,
      [MODULE.asan, 't1', '02', CKM_ECDSA_SHA256, '0', ...files(1)],
      world.asanEnv(),
    );
    for (const c of world.custodians.slice(0, 2)) {
      const e = await c.next((x) => x.type === 'offer-added', `${c.name} offer`, 60_000);
      if (e.type !== 'offer-added') throw new Error('no offer');
      expect(c.engine.decline(e.offer.verified.offer.ceremonyId)).toBe(true);
    }
    const r = await signing;
    expect(r.out).toMatch(/C_Login failed: 0x200\b/);
    expect(readFileSync(world.log, 'utf8')).toMatch(/C_Login on t1 failed: ceremony \S+ declined/);
    expect(await signedByModule(world)).toHaveLength(0);
    const logins = (await auditEntries(world)).filter((e) => e.event === 'pkcs11-login');
    expect(logins.map((e) => e.data.outcome)).toEqual(['waiting', 'failed']);
  }, 180_000);

  it('cancelled by the operator while C_Login waits: CKR_FUNCTION_CANCELED, nothing signed', async () => {
    w = await pkcs11World();
    const world = w;
    const signing = run(
      MODULE.driver,
      [MODULE.asan, 't1', '02', CKM_ECDSA_SHA256, '0', ...files(1)],
      world.asanEnv(),
    );
    const c = world.custodians[0]!;
    const e = await c.next((x) => x.type === 'offer-added', `${c.name} offer`, 60_000);
    if (e.type !== 'offer-added') throw new Error('no offer');
    const id = e.offer.verified.offer.ceremonyId;
    const cancelled = await adminApi(world.server, 'POST', `/api/ceremonies/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    const r = await signing;
    expect(r.out).toMatch(/C_Login failed: 0x50\b/);
    expect(readFileSync(world.log, 'utf8')).toMatch(
      /C_Login on t1 failed: ceremony \S+ .*(cancel|admin)/,
    );
    expect(await signedByModule(world)).toHaveLength(0);
    const logins = (await auditEntries(world)).filter((x) => x.event === 'pkcs11-login');
    expect(logins.map((x) => x.data.outcome)).toEqual(['waiting', 'failed']);
  }, 180_000);

  it('server restarted while C_Login waits: CKR_DEVICE_REMOVED, nothing signed, audited', async () => {
    w = await pkcs11World();
    const world = w;
    const list = files(1);
    const signing = run(
      MODULE.driver,
      [MODULE.asan, 't1', '02', CKM_ECDSA_SHA256, '0', ...list],
      world.asanEnv(),
    );
    await world.custodians[0]!.next((x) => x.type === 'offer-added', 'offer', 60_000);
    await world.server.stop();
    const r = await signing;
    expect(r.out).toMatch(/C_Login failed: 0x32\b/);
    expect(readFileSync(world.log, 'utf8')).toMatch(/custodian-server closed the connection/);
    expect(existsSync(`${list[0]}.sig`)).toBe(false);
    // The server comes back on the same data: the wait and its request are in the audit chain.
    const again = await startTestServer(world.target, world.dir, {
      pkcs11: { socket: world.socket },
    });
    try {
      const audit = (
        await adminApi<{
          entries: { event: string; data: Record<string, unknown> }[];
          error: unknown;
        }>(again, 'GET', '/api/audit?limit=1000')
      ).body;
      expect(audit.error).toBeNull();
      expect(
        audit.entries.some((e) => e.event === 'pkcs11-login' && e.data.outcome === 'waiting'),
      ).toBe(true);
      expect(audit.entries.some((e) => e.event === 'signed')).toBe(false);
      // The module reaches the restarted server again.
      const l = await run('pkcs11-tool', ['--module', MODULE.asan, '-L'], world.asanEnv());
      expect(l.code).toBe(0);
    } finally {
      await again.stop();
      // world.stop() must not stop the first server twice.
      for (const c of world.custodians) {
        c.engine.stop();
        c.audit.close();
      }
      w = undefined;
    }
  }, 180_000);

  it('wrong or revoked credential: refused before anything, audited', async () => {
    w = await pkcs11World();
    const bad = randomBytes(32).toString('base64url');
    const r = await run(
      'pkcs11-tool',
      ['--module', MODULE.asan, '-L'],
      w.asanEnv({ CUSTODIAN_PKCS11_CREDENTIAL: bad }),
    );
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/CKR_PIN_INCORRECT|0xa0/i);
    expect(r.err).toMatch(
      /custodian-pkcs11: custodian-server refused the module: client credential refused/,
    );
    await adminApi(w.server, 'POST', '/api/pkcs11-clients/build01/revoke');
    const revoked = await run(
      MODULE.driver,
      [MODULE.asan, 't1', '02', CKM_ECDSA_SHA256, '0', ...files(1)],
      w.asanEnv(),
    );
    expect(revoked.out).toMatch(/C_GetSlotList failed: 0xa0\b/);
    const audit = await auditEntries(w);
    const refused = audit.filter((e) => e.event === 'pkcs11-refused' && e.data.op === 'hello');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(audit.some((e) => e.event === 'pkcs11-client-revoked')).toBe(true);
    expect(await signedByModule(w)).toHaveLength(0);
  }, 180_000);

  it('unknown key: CKR_KEY_HANDLE_INVALID on the socket, nothing signed, audited', async () => {
    w = await pkcs11World();
    const cred = w.env().CUSTODIAN_PKCS11_CREDENTIAL!;
    const rvs = await rawRequest(w.socket, cred, {
      v: 1,
      op: 'sign',
      target: 't1',
      keyRef: 77,
      mechanism: 0x1044,
      data: '00',
    });
    expect(rvs).toEqual([0, 0x60]);
    const missing = run(
      MODULE.driver,
      [MODULE.asan, 't1', '4d', CKM_ECDSA_SHA256, '0', ...files(1)],
      w.asanEnv(),
    );
    await w.approve(2);
    expect((await missing).out).toMatch(/key: C_FindObjects failed: 0x60\b/);
    const audit = await auditEntries(w);
    expect(
      audit.find((e) => e.event === 'pkcs11-refused' && e.data.keyId === 77)?.data,
    ).toMatchObject({ client: 'build01', rv: 0x60 });
    expect(await signedByModule(w)).toHaveLength(0);
  }, 180_000);
});
