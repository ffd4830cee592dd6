/**
 * OpenSSL through the libp11 engine (`-engine pkcs11 -keyform engine`) with the module: the
 * engine's C_Login (protected authentication path, no PIN) runs the 2-of-3 ceremony, the card
 * signs, and openssl verifies the signature with the public key the engine exports.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, have, MODULE, pkcs11World, run, type Pkcs11World } from './world';

/** Debian's libengine-pkcs11-openssl (the engine libp11 builds). */
const engineInstalled = () =>
  ['x86_64', 'aarch64'].some((arch) =>
    existsSync(`/usr/lib/${arch}-linux-gnu/engines-3/pkcs11.so`),
  );

describe.skipIf((!have('openssl') || !engineInstalled()) && process.env.CI !== 'true')(
  'OpenSSL libp11 engine with the module',
  () => {
    let w: Pkcs11World;
    let dir: string;
    /** openssl with the engine pointed at our module (libp11 reads PKCS11_MODULE_PATH). */
    const openssl = (args: string[]) =>
      run('openssl', args, w.asanEnv({ PKCS11_MODULE_PATH: MODULE.asan }));

    beforeAll(async () => {
      w = await pkcs11World();
      dir = mkdtempSync(join(tmpdir(), 'p11-openssl-'));
    }, 120_000);
    afterAll(async () => {
      await w?.stop();
    }, 60_000);

    it('exports the public key, signs with the EC key after the ceremony, verifies', async () => {
      const uri = 'pkcs11:token=t1;id=%02';
      const pub = join(dir, 'pub.pem');
      const exported = await openssl([
        'pkey',
        '-engine',
        'pkcs11',
        '-inform',
        'engine',
        '-pubin',
        '-in',
        `${uri};type=public`,
        '-pubout',
        '-out',
        pub,
      ]);
      expect(exported.err).not.toMatch(/AddressSanitizer|runtime error/);
      expect(exported.code, exported.err).toBe(0);
      expect(readFileSync(pub, 'utf8')).toMatch(/BEGIN PUBLIC KEY/);

      const data = join(dir, 'release.tar');
      writeFileSync(data, Buffer.from('release tarball\n'.repeat(512)));
      const sig = join(dir, 'release.sig');
      const signing = openssl([
        'dgst',
        '-sha256',
        '-engine',
        'pkcs11',
        '-keyform',
        'engine',
        '-sign',
        `${uri};type=private`,
        '-out',
        sig,
        data,
      ]);
      const ceremonyId = await w.approve(2);
      const r = await signing;
      expect(r.err).not.toMatch(/AddressSanitizer|runtime error/);
      expect(r.code, r.err).toBe(0);
      const v = await run(
        'openssl',
        ['dgst', '-sha256', '-verify', pub, '-signature', sig, data],
        {},
      );
      expect(v.out).toMatch(/Verified OK/);
      const signed = (await auditEntries(w)).filter(
        (e) => e.event === 'signed' && e.data.via === 'pkcs11',
      );
      expect(signed).toHaveLength(1);
      expect(signed[0]!.data).toMatchObject({
        client: 'build01',
        keyId: 2,
        ceremonyId,
        mechanism: 'CKM_ECDSA',
      });
    }, 180_000);
  },
);
