/**
 * OpenSC conformance of the emulator, part 4: what else OpenSC's PKCS#11 module does with a
 * SmartCard-HSM — larger curves, data objects (public `CFxx`, private `CDxx`), a certificate,
 * PIN change, PIN blocking and the SO unblock — all against the real `sc-hsm-emulator serve`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import { concatBytes, fromHex, toHex } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { EmulatorFleet } from './emulator-process';
import {
  createDevice,
  emulatorInfo,
  expectSuccess,
  OpenscCard,
  SO_PIN,
  USER_PIN,
} from './opensc-card';
import { runTool, withOpenscTools } from './opensc-tools';

const { availability, tools } = withOpenscTools(await pcscAvailability());

/** DER SubjectPublicKeyInfo of an EC key from PKCS#11's CKA_EC_PARAMS (an OID) and EC point. */
function ecSpki(paramsDer: Uint8Array, point: Uint8Array): Uint8Array {
  const ecPublicKey = fromHex('06072a8648ce3d0201'); // 1.2.840.10045.2.1
  return encodeTlv(
    0x30,
    concatBytes(
      encodeTlv(0x30, concatBytes(ecPublicKey, paramsDer)),
      encodeTlv(0x03, concatBytes(Uint8Array.of(0), point)),
    ),
  );
}

describePcsc('OpenSC PKCS#11 objects, curves and PINs on the emulator', availability, (slots) => {
  let dir: string;
  let stateFile: string;
  let pcsc: Pcsc;
  let fleet: EmulatorFleet;
  let card: OpenscCard;
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => runTool(tools!.openssl, args, { cwd: dir });
  const login = (pin = USER_PIN) => ['--login', '--pin', pin];
  /** SW of each APDU sent with `opensc-tool -s … -s …` in one session. */
  async function rawSws(...apdus: Uint8Array[]): Promise<string[]> {
    const args = apdus.flatMap((a) => ['-s', toHex(a).replace(/(..)(?!$)/g, '$1:')]);
    const r = expectSuccess('opensc-tool -s', await card.openscTool(...args));
    return [...r.stdout.matchAll(/Received \(SW1=0x(..), SW2=0x(..)\)/g)].map(
      (m) => `${m[1]}${m[2]}`,
    );
  }
  const selectApplet = () =>
    concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, SC_HSM_AID.length), SC_HSM_AID);
  // READ BINARY, odd INS with an explicit FID and offset 0 (docs/card-reference.md §2.2, §8.1 `B1`).
  const readEf = (fid: string) =>
    concatBytes(Uint8Array.of(0x00, 0xb1), fromHex(fid), fromHex('0454020000' + '00'));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opensc-objects-'));
    stateFile = file('dev.json');
    await createDevice(stateFile, file('ca'));
    pcsc = await openPcsc();
    fleet = new EmulatorFleet(pcsc);
    card = new OpenscCard(tools!, slots[0]!.reader);
    await fleet.serve(stateFile, slots[0]!);
    expectSuccess('initialize', await card.initialize());
    writeFileSync(file('data'), `larger curves ${Date.now()}\n`);
  });

  afterAll(async () => {
    await fleet?.cleanup();
    await pcsc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('PIN change, blocking after three wrong PINs, and the SO unblock', async () => {
    const newPin = '271828';
    expectSuccess(
      'change-pin',
      await card.pkcs11Tool(...login(), '--change-pin', '--new-pin', newPin),
    );
    const old = await card.pkcs11Tool(...login(), '-O');
    expect(`${old.stdout}${old.stderr}`).toMatch(/CKR_PIN_INCORRECT/);
    expectSuccess('login with the new PIN', await card.pkcs11Tool(...login(newPin), '-O'));
    for (let i = 0; i < 3; i++) await card.pkcs11Tool(...login('000000'), '-O');
    const locked = await card.pkcs11Tool(...login(newPin), '-O');
    expect(`${locked.stdout}${locked.stderr}`).toMatch(/CKR_PIN_LOCKED/);
    expect((await emulatorInfo(stateFile)).userPin).toMatchObject({ retries: 0 });
    // RESET RETRY CODE with the SO-PIN (option 0001, set by sc-hsm-tool) sets a fresh PIN.
    expectSuccess(
      'init-pin as SO',
      await card.pkcs11Tool(
        '--login',
        '--login-type',
        'so',
        '--so-pin',
        SO_PIN,
        '--init-pin',
        '--new-pin',
        USER_PIN,
      ),
    );
    expectSuccess('login after unblock', await card.pkcs11Tool(...login(), '-O'));
    expect((await emulatorInfo(stateFile)).userPin).toEqual({
      retries: 3,
      maxRetries: 3,
      transport: false,
    });
  });

  it.each([
    { curve: 'secp384r1', bits: 384, hashes: ['SHA256', 'SHA384', 'SHA512'] },
    { curve: 'secp521r1', bits: 528, hashes: ['SHA256', 'SHA512'] },
    { curve: 'brainpoolP512r1', bits: 512, hashes: ['SHA384', 'SHA512'] },
  ])('EC:$curve key: ECDSA with $hashes verifies with openssl', async ({ curve, bits, hashes }) => {
    const gen = expectSuccess(
      'keypairgen',
      await card.pkcs11Tool(...login(), '--keypairgen', '--key-type', `EC:${curve}`),
    );
    expect(gen.stdout).toContain(`EC_POINT ${bits} bits`);
    const id = /^\s*ID:\s+([0-9a-f]+)\s*$/m.exec(gen.stdout)?.[1];
    const point = /^\s*EC_POINT:\s+([0-9a-f]+)\s*$/m.exec(gen.stdout)?.[1];
    const params = /^\s*EC_PARAMS:\s+([0-9a-f]+)\s*$/m.exec(gen.stdout)?.[1];
    if (id === undefined || point === undefined || params === undefined) {
      throw new Error(`unexpected keypairgen output:\n${gen.stdout}`);
    }
    // The public key straight from the attributes OpenSC read off the card (pkcs11-tool 0.23
    // cannot --read-object a P-384 public key: "cannot create EVP_PKEY" on the client side).
    const octets = fromHex(point);
    const raw = octets.subarray(octets[1]! & 0x80 ? 2 + (octets[1]! & 0x7f) : 2);
    writeFileSync(file(`${curve}.der`), ecSpki(fromHex(params), raw));
    expectSuccess(
      'openssl pkey',
      await openssl(
        'pkey',
        '-pubin',
        '-inform',
        'DER',
        '-in',
        `${curve}.der`,
        '-out',
        `${curve}.pem`,
      ),
    );
    for (const h of hashes) {
      const sig = `${curve}.${h}.sig`;
      expectSuccess(
        `sign ECDSA-${h}`,
        await card.pkcs11Tool(
          ...login(),
          '--sign',
          '--mechanism',
          `ECDSA-${h}`,
          '--id',
          id,
          '--signature-format',
          'openssl',
          '-i',
          file('data'),
          '-o',
          file(sig),
        ),
      );
      const v = await openssl(
        'dgst',
        `-${h.toLowerCase()}`,
        '-verify',
        `${curve}.pem`,
        '-signature',
        sig,
        'data',
      );
      expect(`${curve} ${h}: ${v.stdout.trim()}`).toBe(`${curve} ${h}: Verified OK`);
    }
  });

  it('public and private data objects: private ones need the PIN, also at APDU level', async () => {
    const blob = randomBytes(3000);
    writeFileSync(file('blob'), blob);
    for (const [label, extra] of [
      ['public-blob', []],
      ['private-blob', ['--private']],
    ] as const) {
      expectSuccess(
        `write ${label}`,
        await card.pkcs11Tool(
          ...login(),
          '--write-object',
          file('blob'),
          '--type',
          'data',
          '--label',
          label,
          ...extra,
        ),
      );
      expectSuccess(
        `read ${label}`,
        await card.pkcs11Tool(
          ...login(),
          '--read-object',
          '--type',
          'data',
          '--label',
          label,
          '-o',
          file(`${label}.out`),
        ),
      );
      expect(readFileSync(file(`${label}.out`)).equals(blob)).toBe(true);
    }
    const pub = await card.pkcs11Tool(
      '--read-object',
      '--type',
      'data',
      '--label',
      'public-blob',
      '-o',
      file('p.out'),
    );
    expectSuccess('read public without login', pub);
    const priv = await card.pkcs11Tool(
      '--read-object',
      '--type',
      'data',
      '--label',
      'private-blob',
      '-o',
      file('q.out'),
    );
    expect(priv.code).not.toBe(0);
    // On the card: the public data is a CFxx EF, the private one a CDxx EF (docs/card-reference.md §2.2, §8.1 `B1`).
    const files = (await emulatorInfo(stateFile)).files;
    const pubEf = files.find((f) => f.startsWith('cf'));
    const privEf = files.find((f) => f.startsWith('cd'));
    expect(pubEf).toBeDefined();
    expect(privEf).toBeDefined();
    expect(await rawSws(selectApplet(), readEf(pubEf!), readEf(privEf!))).toEqual([
      '9000',
      '9000',
      '6982',
    ]);
  });

  it('stores an X.509 certificate that reads back byte for byte', async () => {
    const gen = await openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'x.key',
      '-subj',
      '/CN=custodian conformance',
      '-days',
      '1',
      '-outform',
      'DER',
      '-out',
      'x.der',
    );
    expectSuccess('openssl req', gen);
    expectSuccess(
      'write cert',
      await card.pkcs11Tool(
        ...login(),
        '--write-object',
        file('x.der'),
        '--type',
        'cert',
        '--id',
        '99',
        '--label',
        'x',
      ),
    );
    const o = expectSuccess('pkcs11-tool -O', await card.pkcs11Tool('-O', '--type', 'cert'));
    expect(o.stdout).toMatch(/subject:\s+DN: CN=custodian conformance/);
    expectSuccess(
      'read cert',
      await card.pkcs11Tool('--read-object', '--type', 'cert', '--id', '99', '-o', file('x.out')),
    );
    expect(readFileSync(file('x.out')).equals(readFileSync(file('x.der')))).toBe(true);
  });
});
