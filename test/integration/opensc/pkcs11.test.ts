/**
 * OpenSC conformance of the emulator, part 2: OpenSC's PKCS#11 module against the real
 * `sc-hsm-emulator serve` process. EC key generation on brainpoolP256r1 and prime256v1, ECDSA
 * signing (card-side hash mechanism and a hash computed here), the public key exported as DER,
 * and every signature checked by `openssl dgst -verify` — also that a wrong message fails.
 * Then SIGTERM, the keys in the state file, and signing again after a restart.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import { asciiBytes, concatBytes, toHex } from '../../../shared/codec/bytes';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { EmulatorFleet, type ServedEmulator } from './emulator-process';
import { createDevice, emulatorInfo, expectSuccess, OpenscCard, USER_PIN } from './opensc-card';
import { runTool, withOpenscTools } from './opensc-tools';

const { availability, tools } = withOpenscTools(await pcscAvailability());

/** The curves of the issue, with the OID openssl must find in the exported key. */
const CURVES = [
  { name: 'brainpoolP256r1', label: 't-bp256', openssl: /brainpoolP256r1/ },
  { name: 'prime256v1', label: 't-p256', openssl: /prime256v1|P-256/ },
] as const;

describePcsc(
  'OpenSC PKCS#11 against the emulator CLI: EC keys and ECDSA',
  availability,
  (slots) => {
    let dir: string;
    let stateFile: string;
    let pcsc: Pcsc;
    let fleet: EmulatorFleet;
    let emulator: ServedEmulator | undefined;
    let card: OpenscCard;
    const openssl = (...args: string[]) => runTool(tools!.openssl, args, { cwd: dir });
    const file = (name: string) => join(dir, name);

    /**
     * PKCS#11 CKA_ID of each generated key, by label. pkcs11-tool 0.23 picks the signing key
     * by --id only (given just --label it signs with the FIRST private key), so keys are
     * addressed by id.
     */
    const ids = new Map<string, string>();
    const idOf = (label: string): string => {
      const id = ids.get(label);
      if (id === undefined) throw new Error(`no key generated for ${label}`);
      return id;
    };

    /** Exports the public key of `label` as PEM (pkcs11-tool DER → openssl), returns the path. */
    async function exportPublicKey(label: string): Promise<string> {
      const der = file(`${label}.pub.der`);
      const pem = file(`${label}.pub.pem`);
      expectSuccess(
        'pkcs11-tool --read-object',
        await card.pkcs11Tool('--read-object', '--type', 'pubkey', '--id', idOf(label), '-o', der),
      );
      expectSuccess(
        'openssl pkey DER → PEM',
        await openssl('pkey', '-pubin', '-inform', 'DER', '-in', der, '-out', pem),
      );
      return pem;
    }

    /** Signs `data` with `label`; `prehash` signs SHA-256(data) with plain ECDSA instead. */
    async function sign(label: string, data: string, prehash: boolean): Promise<string> {
      const sig = file(`${label}.${prehash ? 'ecdsa' : 'ecdsa-sha256'}.sig`);
      let input = data;
      if (prehash) {
        input = `${data}.sha256`;
        writeFileSync(input, createHash('sha256').update(readFileSync(data)).digest());
      }
      expectSuccess(
        `pkcs11-tool --sign (${label})`,
        await card.pkcs11Tool(
          '--login',
          '--pin',
          USER_PIN,
          '--sign',
          '--mechanism',
          prehash ? 'ECDSA' : 'ECDSA-SHA256',
          '--id',
          idOf(label),
          '--signature-format',
          'openssl',
          '-i',
          input,
          '-o',
          sig,
        ),
      );
      return sig;
    }

    const verify = (pem: string, sig: string, data: string) =>
      openssl('dgst', '-sha256', '-verify', pem, '-signature', sig, data);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'opensc-pkcs11-'));
      stateFile = file('dev.json');
      await createDevice(stateFile, file('ca'));
      pcsc = await openPcsc();
      fleet = new EmulatorFleet(pcsc);
      const slot = slots[0]!;
      card = new OpenscCard(tools!, slot.reader);
      emulator = await fleet.serve(stateFile, slot);
      expectSuccess('sc-hsm-tool --initialize', await card.initialize());
      writeFileSync(file('data'), `custodian conformance ${Date.now()}\n`);
      writeFileSync(file('other'), 'a different message\n');
    });

    afterAll(async () => {
      await fleet?.cleanup();
      await pcsc?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('lists the initialized token in the emulator slot', async () => {
      const r = expectSuccess('pkcs11-tool -L', await card.pkcs11Tool('-L'));
      const section = r.stdout.slice(r.stdout.indexOf(card.reader));
      expect(section).toMatch(/token label\s+:\s+SmartCard-HSM \(UserPIN\)/);
      expect(section).toMatch(/token manufacturer\s+:\s+www\.CardContact\.de/);
      expect(section).toMatch(/token flags\s+:.*token initialized, PIN initialized/);
    });

    it.each(CURVES)('generates an EC:$name key pair', async ({ name, label }) => {
      const r = expectSuccess(
        'pkcs11-tool --keypairgen',
        await card.pkcs11Tool(
          '--login',
          '--pin',
          USER_PIN,
          '--keypairgen',
          '--key-type',
          `EC:${name}`,
          '--label',
          label,
        ),
      );
      expect(r.stdout).toMatch(/Key pair generated/);
      const id = /^\s*ID:\s+([0-9a-f]+)\s*$/m.exec(r.stdout)?.[1];
      expect(id).toMatch(/^[0-9a-f]{2,}$/);
      expect([...ids.values()]).not.toContain(id);
      ids.set(label, id!);
      expect(r.stdout).toMatch(/Private Key Object; EC/);
      expect(r.stdout).toMatch(/Public Key Object; EC\s+EC_POINT 256 bits/);
      const pem = await exportPublicKey(label);
      const text = expectSuccess(
        'openssl pkey -text',
        await openssl('pkey', '-pubin', '-in', pem, '-noout', '-text'),
      );
      expect(text.stdout).toMatch(/Public-Key: \(256 bit\)/);
    });

    it('lists both keys after login; the card never hands out a private key', async () => {
      const r = expectSuccess(
        'pkcs11-tool -O',
        await card.pkcs11Tool('--login', '--pin', USER_PIN, '-O'),
      );
      for (const c of CURVES) {
        expect(r.stdout).toContain(`label:      ${c.label}`);
        expect(r.stdout).toContain(`ID:         ${idOf(c.label)}`);
      }
      expect(r.stdout.match(/Private Key Object; EC/g)).toHaveLength(CURVES.length);
      // Raw APDUs in one session: SELECT, VERIFY, then READ BINARY of the key object CC01
      // (refused even with the PIN verified) and of its request CE01 (readable).
      const hex = (b: Uint8Array) => toHex(b).replace(/(..)(?!$)/g, '$1:');
      const apdu = (...parts: Uint8Array[]) => hex(concatBytes(...parts));
      const read = (fid: number) =>
        apdu(Uint8Array.of(0x00, 0xb1, fid >> 8, fid & 0xff, 0x04, 0x54, 0x02, 0x00, 0x00, 0x00));
      const raw = expectSuccess(
        'opensc-tool -s',
        await card.openscTool(
          '-s',
          apdu(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, SC_HSM_AID.length), SC_HSM_AID),
          '-s',
          apdu(Uint8Array.of(0x00, 0x20, 0x00, 0x81, USER_PIN.length), asciiBytes(USER_PIN)),
          '-s',
          read(0xcc01),
          '-s',
          read(0xce01),
        ),
      );
      const sws = [...raw.stdout.matchAll(/Received \(SW1=0x(..), SW2=0x(..)\)/g)].map(
        (m) => `${m[1]}${m[2]}`,
      );
      expect(sws).toEqual(['9000', '9000', '6982', '9000']);
    });

    it.each(CURVES)('ECDSA-SHA256 with the $name key verifies with openssl', async ({ label }) => {
      const pem = await exportPublicKey(label);
      const sig = await sign(label, file('data'), false);
      const ok = await verify(pem, sig, file('data'));
      expect(ok.stdout.trim()).toBe('Verified OK');
      expect(ok.code).toBe(0);
      const bad = await verify(pem, sig, file('other'));
      expect(bad.code).not.toBe(0);
      expect(bad.stdout).toMatch(/Verification failure/);
    });

    it.each(CURVES)(
      'ECDSA over a SHA-256 computed here ($name) verifies with openssl',
      async ({ label }) => {
        const pem = await exportPublicKey(label);
        const sig = await sign(label, file('data'), true);
        expect((await verify(pem, sig, file('data'))).stdout.trim()).toBe('Verified OK');
      },
    );

    it('a signature of one key does not verify under the other', async () => {
      const [a, b] = CURVES;
      const sig = await sign(a.label, file('data'), false);
      const r = await verify(await exportPublicKey(b.label), sig, file('data'));
      expect(r.code).not.toBe(0);
    });

    it('SIGTERM: exit 0 and both keys are in the state file', async () => {
      const exit = await emulator!.stop();
      emulator = undefined;
      expect(exit).toEqual({ code: 0, signal: null });
      const info = await emulatorInfo(stateFile);
      expect(info.initialized).toBe(true);
      expect(info.keys.map((k) => k.curve).sort()).toEqual(['brainpoolP256r1', 'secp256r1'].sort());
    });

    it('after a restart the same keys sign, and openssl verifies with the keys exported before', async () => {
      emulator = await fleet.serve(stateFile, slots[0]!);
      for (const { label } of CURVES) {
        const pem = file(`${label}.pub.pem`);
        const before = readFileSync(pem, 'utf8');
        const sig = await sign(label, file('other'), false);
        expect((await verify(pem, sig, file('other'))).stdout.trim()).toBe('Verified OK');
        // The token exports the very same public key as before the restart.
        expect(readFileSync(await exportPublicKey(label), 'utf8')).toBe(before);
      }
      const exit = await emulator.stop();
      emulator = undefined;
      expect(exit.code).toBe(0);
    });
  },
);
