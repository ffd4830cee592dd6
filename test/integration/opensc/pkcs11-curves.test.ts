/**
 * Issue 13 through pcscd with an independent client: OpenSC's PKCS#11 module generates a key
 * on every curve its SmartCard-HSM driver offers (explicit domain parameters in `7F49`,
 * docs/card-reference.md §4.3) and signs with ECDSA-SHA256 and with ECDSA over a hash computed
 * here; openssl verifies every signature with the exported public key and rejects a wrong
 * message. Before the fix secp256k1, secp192k1 and the 192/224/320-bit brainpool curves were
 * refused with 6A80.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CURVE_NAMES, curveByName } from '../../../shared/crypto/curves';
import { OPENSSL_CURVE_NAME } from '../../unit/shared/crypto/openssl-curve-names';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { withOpenscTools } from './opensc-tools';
import { Pkcs11Session } from './pkcs11-session';

/**
 * The curves of the installed driver (OpenSC 0.23, Debian 12): the twisted brainpool curves
 * came to OpenSC's list later; the emulator supports them too (unit test curves-keys).
 */
const DRIVER_CURVES = CURVE_NAMES.filter((name) => !name.endsWith('t1'));

const { availability, tools } = withOpenscTools(await pcscAvailability());

describePcsc(
  'OpenSC PKCS#11: EC keys on every curve of the sc-hsm driver',
  availability,
  (slots) => {
    let s: Pkcs11Session;
    let data: string;
    let other: string;
    let digest: string;

    beforeAll(async () => {
      s = await Pkcs11Session.start(tools!, slots[0]!, 'opensc-curves-');
      data = s.write('data', `custodian curves ${Date.now()}\n`);
      other = s.write('other', 'a different message\n');
      digest = s.write('data.sha256', createHash('sha256').update(readFileSync(data)).digest());
    }, 60_000);

    afterAll(async () => {
      await s?.close();
    });

    it.each(DRIVER_CURVES.map((name) => ({ name, openssl: OPENSSL_CURVE_NAME[name] })))(
      'EC:$openssl: generate, ECDSA-SHA256 and ECDSA verify with openssl',
      async ({ name, openssl }) => {
        const bits = curveByName(name).domain.p.toString(2).length;
        const { id, stdout } = await s.keygen(`EC:${openssl}`, `c-${name}`);
        expect(stdout).toMatch(/Public Key Object; EC/);
        const pem = await s.ecPublicKeyFromListing(stdout, name);
        const text = await s.openssl('pkey', '-pubin', '-in', pem, '-noout', '-text');
        expect(text.stdout).toContain(`Public-Key: (${bits} bit)`);
        expect(text.stdout).toContain(`ASN1 OID: ${openssl}`);
        const verify = (sig: string, file: string) =>
          s.openssl('dgst', '-sha256', '-verify', pem, '-signature', sig, file);
        const format = ['--signature-format', 'openssl'];
        const sig = await s.sign(id, 'ECDSA-SHA256', data, format);
        expect((await verify(sig, data)).stdout.trim()).toBe('Verified OK');
        const bad = await verify(sig, other);
        expect(bad.code).not.toBe(0);
        const sig2 = await s.sign(id, 'ECDSA', digest, format);
        expect((await verify(sig2, data)).stdout.trim()).toBe('Verified OK');
      },
      60_000,
    );
  },
);
