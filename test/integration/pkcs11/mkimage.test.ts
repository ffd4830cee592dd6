/**
 * mkimage signs a FIT image (kernel + `sha256,rsa2048` configuration signature) through the
 * module: `mkimage -N pkcs11 -k "pkcs11:token=t1" -K control.dtb -r`, where the engine's
 * C_Login triggers a 2-of-3 ceremony that emulated custodians approve with the real engine.
 * Proof (./fit-sign.ts): the same FIT signed with the same key as a PEM gives the identical
 * signature value, and control.dtb holds the target's public key.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from '../server/harness';
import { fdtBytes, fdtText, fitWorkdir, mkimagePem, mkimagePkcs11 } from '../../../demo/fit-sign';
import { auditEntries, have, MODULE, pkcs11World, type Pkcs11World } from './world';

const tools = have('mkimage') && have('dtc') && have('fdtget') && have('openssl');

describe.skipIf(!tools && process.env.CI !== 'true')(
  'mkimage FIT signing through the module',
  () => {
    let w: Pkcs11World;
    beforeAll(async () => {
      w = await pkcs11World();
    }, 120_000);
    afterAll(async () => {
      await w?.stop();
    }, 60_000);

    it('signs after a 2-of-3 ceremony; identical to the PEM signing; control.dtb has the key', async () => {
      const dir = await fitWorkdir('release-rsa');
      const signing = mkimagePkcs11(dir, MODULE.asan, w.asanEnv());
      const ceremonyId = await w.approve(2);
      const r = await signing;
      expect(r.err).not.toMatch(/AddressSanitizer|runtime error/);
      expect(r.code, r.out + r.err).toBe(0);
      const snap = await adminApi<{ state: string; progress: { approvedBy: string[] } }>(
        w.server,
        'GET',
        `/api/ceremonies/${ceremonyId}`,
      );
      expect(snap.body.progress.approvedBy.sort()).toEqual(['alice', 'bob']);

      // The reference: the same key as PEM (exported from the emulator's state, tests only).
      const rec = w.target.card.state.keys.get(3);
      if (!rec?.rsa) throw new Error('key 3 is not RSA');
      const ref = await mkimagePem(dir, 'release-rsa', rec.rsa.pkcs8);
      expect(ref.code, ref.err).toBe(0);
      const node = '/configurations/conf-1/signature-1';
      const viaModule = await fdtBytes(join(dir, 'fit.itb'), node, 'value');
      const viaPem = await fdtBytes(join(dir, 'fit-pem.itb'), node, 'value');
      expect(viaModule.length).toBe(256);
      expect(viaModule.equals(viaPem)).toBe(true);
      expect(await fdtText(join(dir, 'fit.itb'), node, 'algo')).toBe('sha256,rsa2048');

      // control.dtb: the public key mkimage wrote is the target's key 3.
      const keyNode = '/signature/key-release-rsa';
      const modulus = await fdtBytes(join(dir, 'control.dtb'), keyNode, 'rsa,modulus');
      const jwk = createPublicKey(
        createPrivateKey({ key: Buffer.from(rec.rsa.pkcs8), format: 'der', type: 'pkcs8' }),
      ).export({ format: 'jwk' });
      const served = await adminApi<{ keys: { id: number }[] }>(
        w.server,
        'GET',
        '/api/targets/t1/keys',
      );
      expect(served.body.keys.some((k) => k.id === 3)).toBe(true);
      expect(modulus.equals(Buffer.from(jwk.n!, 'base64url'))).toBe(true);
      expect(modulus.equals(Buffer.from(rec.rsa.modulus))).toBe(true);
      expect(
        (await fdtBytes(join(dir, 'control.dtb'), keyNode, 'rsa,num-bits')).readUInt32BE(0),
      ).toBe(2048);
      expect(
        readFileSync(join(dir, 'control.dtb')).equals(readFileSync(join(dir, 'control-pem.dtb'))),
      ).toBe(true);

      const signed = (await auditEntries(w)).filter(
        (e) => e.event === 'signed' && e.data.via === 'pkcs11',
      );
      expect(signed).toHaveLength(1);
      expect(signed[0]!.data).toMatchObject({
        client: 'build01',
        keyId: 3,
        ceremonyId,
        mechanism: 'CKM_RSA_PKCS',
      });
    }, 180_000);
  },
);
