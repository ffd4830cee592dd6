/**
 * OpenSC's pkcs11-tool against the module (ASan/UBSan build) and the real server: slots (one
 * per target, token label = target name), objects, C_Login through a 2-of-3 ceremony the
 * custodians approve with the real engine, signatures that openssl verifies.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from '../server/harness';
import { auditEntries, have, MODULE, pkcs11World, run, type Pkcs11World } from './world';

const tools = have('pkcs11-tool') && have('openssl');

describe.skipIf(!tools && process.env.CI !== 'true')('pkcs11-tool with the module', () => {
  let w: Pkcs11World;
  let dir: string;
  const tool = (args: string[], extra = {}) =>
    run('pkcs11-tool', ['--module', MODULE.asan, ...args], w.asanEnv(extra));

  beforeAll(async () => {
    w = await pkcs11World();
    dir = mkdtempSync(join(tmpdir(), 'p11tool-'));
  }, 120_000);
  afterAll(async () => {
    await w?.stop();
  }, 60_000);

  it('lists one slot per target with the target name as token label', async () => {
    const r = await tool(['--list-slots']);
    expect(r.err).not.toMatch(/AddressSanitizer|runtime error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/token label\s*:\s*t1\b/);
    expect(r.out).toMatch(/PIN pad|protected authentication path|login required/i);
  });

  it('lists the public keys without login and no private key', async () => {
    const r = await tool(['--token-label', 't1', '--list-objects']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Public Key Object; EC/);
    expect(r.out).toMatch(/label:\s*signer-p256/);
    expect(r.out).not.toMatch(/Private Key Object/);
  });

  it('C_Login runs a 2-of-3 ceremony; signs with the EC key; openssl verifies', async () => {
    const data = join(dir, 'fw.bin');
    writeFileSync(data, Buffer.from('firmware image 1.0\n'.repeat(200)));
    const sig = join(dir, 'fw.sig');
    const signing = tool([
      '--token-label',
      't1',
      '--login',
      '--sign',
      '--id',
      '02',
      '--mechanism',
      'ECDSA-SHA256',
      '--signature-format',
      'openssl',
      '--input-file',
      data,
      '--output-file',
      sig,
    ]);
    const ceremonyId = await w.approve(2);
    const r = await signing;
    expect(r.err).not.toMatch(/AddressSanitizer|runtime error/);
    expect(r.code, r.err).toBe(0);
    const key = await adminApi<{ publicKeyPem: string }>(w.server, 'GET', '/api/targets/t1/keys/2');
    const pem = join(dir, 'key2.pem');
    writeFileSync(pem, key.body.publicKeyPem);
    const v = await run(
      'openssl',
      ['dgst', '-sha256', '-verify', pem, '-signature', sig, data],
      {},
    );
    expect(v.out).toMatch(/Verified OK/);
    const audit = await auditEntries(w);
    const signed = audit.filter((e) => e.event === 'signed' && e.data.via === 'pkcs11');
    expect(signed).toHaveLength(1);
    expect(signed[0]!.data).toMatchObject({ client: 'build01', keyId: 2, ceremonyId });
    expect(readFileSync(w.log, 'utf8')).toMatch(/C_Login on t1: unlocked/);
  }, 120_000);

  it('signs with the RSA key: SHA256-RSA-PKCS and SHA256-RSA-PKCS-PSS, openssl verifies', async () => {
    // Logged in already? Each pkcs11-tool run logs in again: the target is still unlocked.
    const data = join(dir, 'kernel.img');
    writeFileSync(data, Buffer.from('kernel image\n'.repeat(300)));
    const pub = join(dir, 'rsa.der');
    const read = await tool([
      '--token-label',
      't1',
      '--read-object',
      '--type',
      'pubkey',
      '--id',
      '03',
      '--output-file',
      pub,
    ]);
    expect(read.code, read.err).toBe(0);
    const pem = join(dir, 'rsa.pem');
    const conv = await run(
      'openssl',
      ['pkey', '-pubin', '-inform', 'DER', '-in', pub, '-out', pem],
      {},
    );
    expect(conv.code, conv.err).toBe(0);
    const key = await adminApi<{ keys: { id: number; label: string }[] }>(
      w.server,
      'GET',
      '/api/targets/t1/keys',
    );
    expect(key.body.keys.map((k) => k.label)).toContain('release-rsa');

    const v15 = join(dir, 'kernel.v15.sig');
    const a = await tool([
      '--token-label',
      't1',
      '--login',
      '--sign',
      '--id',
      '03',
      '--mechanism',
      'SHA256-RSA-PKCS',
      '--input-file',
      data,
      '--output-file',
      v15,
    ]);
    expect(a.err).not.toMatch(/AddressSanitizer|runtime error/);
    expect(a.code, a.err).toBe(0);
    const va = await run(
      'openssl',
      ['dgst', '-sha256', '-verify', pem, '-signature', v15, data],
      {},
    );
    expect(va.out).toMatch(/Verified OK/);

    const pss = join(dir, 'kernel.pss.sig');
    const b = await tool([
      '--token-label',
      't1',
      '--login',
      '--sign',
      '--id',
      '03',
      '--mechanism',
      'SHA256-RSA-PKCS-PSS',
      '--mgf',
      'MGF1-SHA256',
      '--salt-len',
      '32',
      '--input-file',
      data,
      '--output-file',
      pss,
    ]);
    expect(b.code, b.err).toBe(0);
    const vb = await run(
      'openssl',
      [
        'dgst',
        '-sha256',
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        'rsa_pss_saltlen:32',
        '-verify',
        pem,
        '-signature',
        pss,
        data,
      ],
      {},
    );
    expect(vb.out).toMatch(/Verified OK/);

    // A salt the card cannot produce is refused before the card is asked.
    const c = await tool([
      '--token-label',
      't1',
      '--login',
      '--sign',
      '--id',
      '03',
      '--mechanism',
      'SHA256-RSA-PKCS-PSS',
      '--mgf',
      'MGF1-SHA256',
      '--salt-len',
      '20',
      '--input-file',
      data,
      '--output-file',
      join(dir, 'bad.sig'),
    ]);
    expect(c.code).not.toBe(0);
    expect(c.err).toMatch(/CKR_MECHANISM_PARAM_INVALID/);
    const signed = (await auditEntries(w)).filter(
      (e) => e.event === 'signed' && e.data.keyId === 3,
    );
    expect(signed.map((e) => e.data.mechanism)).toEqual([
      'CKM_SHA256_RSA_PKCS',
      'CKM_SHA256_RSA_PKCS_PSS',
    ]);
  }, 120_000);
});
