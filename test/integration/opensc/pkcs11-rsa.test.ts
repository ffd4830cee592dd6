/**
 * Issue 8 §1 through pcscd with an independent client: OpenSC's PKCS#11 module generates RSA
 * keys on the emulator (GENERATE ASYMMETRIC KEY PAIR with the RSA template) and signs with
 * RSA-PKCS (caller DigestInfo, `30`), SHA256-RSA-PKCS, RSA-PKCS-PSS (supplied hash, `40`) and
 * SHA256-RSA-PKCS-PSS; openssl verifies every signature with the exported public key and
 * rejects it for another message. Before issue 8 the card refused RSA templates (6A81).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { withOpenscTools } from './opensc-tools';
import { Pkcs11Session } from './pkcs11-session';

const { availability, tools } = withOpenscTools(await pcscAvailability());

/** DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_SHA256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');

describePcsc('OpenSC PKCS#11: RSA keys and signatures on the emulator', availability, (slots) => {
  let s: Pkcs11Session;
  let data: string;
  let other: string;
  const ids = new Map<number, { id: string; pem: string }>();

  beforeAll(async () => {
    s = await Pkcs11Session.start(tools!, slots[0]!, 'opensc-rsa-');
    data = s.write('data', `custodian rsa ${Date.now()}\n`);
    other = s.write('other', 'a different message\n');
  }, 60_000);

  afterAll(async () => {
    await s?.close();
  });

  const key = (bits: number) => {
    const k = ids.get(bits);
    if (!k) throw new Error(`no ${bits}-bit key generated`);
    return k;
  };
  /** `openssl dgst -sha256 -verify` with PKCS#1 v1.5 or PSS (salt = digest length). */
  const verify = (pem: string, sig: string, file: string, pss = false) =>
    s.openssl(
      'dgst',
      '-sha256',
      ...(pss ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] : []),
      '-verify',
      pem,
      '-signature',
      sig,
      file,
    );

  it.each([2048, 3072, 4096])(
    'generates an RSA:%i key pair; openssl reads the exported public key',
    async (bits) => {
      const { id, stdout } = await s.keygen(`rsa:${bits}`, `rsa-${bits}`);
      expect(stdout).toMatch(new RegExp(`Public Key Object; RSA ${bits} bits`));
      const pem = await s.exportPublicKey(id);
      const text = await s.openssl('pkey', '-pubin', '-in', pem, '-noout', '-text');
      expect(text.stdout).toContain(`Public-Key: (${bits} bit)`);
      expect(text.stdout).toMatch(/Exponent: 65537/);
      ids.set(bits, { id, pem });
    },
    120_000,
  );

  it.each([2048, 3072, 4096])('SHA256-RSA-PKCS with the %i-bit key verifies', async (bits) => {
    const { id, pem } = key(bits);
    const sig = await s.sign(id, 'SHA256-RSA-PKCS', data);
    expect(readFileSync(sig).length).toBe(bits / 8);
    expect((await verify(pem, sig, data)).stdout.trim()).toBe('Verified OK');
    expect((await verify(pem, sig, other)).code).not.toBe(0);
  });

  it('RSA-PKCS over a DigestInfo built here verifies (and is deterministic)', async () => {
    const { id, pem } = key(2048);
    const di = s.write(
      'data.di',
      Buffer.concat([DIGEST_INFO_SHA256, createHash('sha256').update(readFileSync(data)).digest()]),
    );
    const a = await s.sign(id, 'RSA-PKCS', di);
    expect((await verify(pem, a, data)).stdout.trim()).toBe('Verified OK');
    const b = await s.sign(id, 'SHA256-RSA-PKCS', data);
    expect(readFileSync(a)).toEqual(readFileSync(b));
  });

  it.each([2048, 4096])('SHA256-RSA-PKCS-PSS and RSA-PKCS-PSS (%i) verify as PSS', async (bits) => {
    const { id, pem } = key(bits);
    // pkcs11-tool 0.23: --hash-algorithm only with the bare RSA-PKCS-PSS mechanism.
    const mgf = ['--mgf', 'MGF1-SHA256', '--salt-len', '32'];
    const pssArgs = ['--hash-algorithm', 'SHA256', ...mgf];
    const sig = await s.sign(id, 'SHA256-RSA-PKCS-PSS', data, mgf);
    expect((await verify(pem, sig, data, true)).stdout.trim()).toBe('Verified OK');
    expect((await verify(pem, sig, other, true)).code).not.toBe(0);
    // Not a PKCS#1 v1.5 signature:
    expect((await verify(pem, sig, data)).code).not.toBe(0);
    const digest = s.write('data.sha256', createHash('sha256').update(readFileSync(data)).digest());
    const sig2 = await s.sign(id, 'RSA-PKCS-PSS', digest, pssArgs);
    expect((await verify(pem, sig2, data, true)).stdout.trim()).toBe('Verified OK');
  });
});
