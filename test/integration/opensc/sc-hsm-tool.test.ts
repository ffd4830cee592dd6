/**
 * OpenSC conformance of the emulator, part 1: the real `sc-hsm-emulator serve` process in a
 * vpcd reader of the system pcscd, driven by `opensc-tool` and `sc-hsm-tool` (identification,
 * INITIALIZE with and without PKA, PKA status, SO-PIN counter), with SIGTERM persistence and a
 * restart from the same state file. The steps run in order on one device.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import { toHex } from '../../../shared/codec/bytes';
import { SC_HSM_ATR } from '../../../shared/sc-hsm/constants';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { EmulatorFleet, type ServedEmulator } from './emulator-process';
import {
  createDevice,
  emulatorInfo,
  expectSuccess,
  OpenscCard,
  SO_PIN,
  USER_PIN,
} from './opensc-card';
import { withOpenscTools } from './opensc-tools';

const { availability, tools } = withOpenscTools(await pcscAvailability());

describePcsc('OpenSC against the emulator CLI: opensc-tool, sc-hsm-tool', availability, (slots) => {
  let dir: string;
  let stateFile: string;
  let deviceChr: string;
  let pcsc: Pcsc;
  let fleet: EmulatorFleet;
  let emulator: ServedEmulator | undefined;
  let card: OpenscCard;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opensc-schsm-'));
    stateFile = join(dir, 'dev.json');
    deviceChr = await createDevice(stateFile, join(dir, 'ca'));
    pcsc = await openPcsc();
    fleet = new EmulatorFleet(pcsc);
    const slot = slots[0]!;
    card = new OpenscCard(tools!, slot.reader);
    emulator = await fleet.serve(stateFile, slot);
  });

  afterAll(async () => {
    await fleet?.cleanup();
    await pcsc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('opensc-tool -a reports the SmartCard-HSM ATR', async () => {
    const r = expectSuccess('opensc-tool -a', await card.openscTool('-a'));
    expect(r.stdout.trim().replace(/:/g, '').toLowerCase()).toBe(toHex(SC_HSM_ATR));
  });

  it('opensc-tool -n picks the SmartCard-HSM driver', async () => {
    const r = expectSuccess('opensc-tool -n', await card.openscTool('-n'));
    expect(r.stdout).toMatch(/^SmartCard-HSM\b.*version 3\.6\s*$/m);
    // With -v OpenSC also names the driver it matched (not a forced one: no -c).
    const v = expectSuccess('opensc-tool -v -n', await card.openscTool('-v', '-n'));
    expect(v.stdout).toMatch(/Using card driver SmartCard-HSM\./);
  });

  it('sc-hsm-tool sees a factory-fresh device', async () => {
    const r = expectSuccess('sc-hsm-tool', await card.scHsmTool());
    expect(r.stdout).toMatch(/Version\s+:\s+3\.6/);
    expect(r.stdout).toMatch(/has never been initialized/);
    // No PKA table before INITIALIZE.
    const s = await card.scHsmTool('--public-key-auth-status');
    expect(s.code).not.toBe(0);
  });

  it('sc-hsm-tool --initialize --public-key-auth 5 --required-pub-keys 3', async () => {
    expectSuccess('initialize with PKA', await card.initialize({ total: 5, required: 3 }));
    expect(await card.pkaStatus()).toEqual({ total: 5, missing: 5, required: 3, authenticated: 0 });
    const r = expectSuccess('sc-hsm-tool', await card.scHsmTool());
    expect(r.stdout).toMatch(/SO-PIN tries left\s+:\s+15/);
    expect(r.stdout).toMatch(/User PIN tries left\s+:\s+3/);
  });

  it('refuses more required keys than keys (checked by sc-hsm-tool before sending)', async () => {
    const r = await card.initialize({ total: 2, required: 3 });
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Required public keys must be <= total/);
    expect(await card.pkaStatus()).toMatchObject({ total: 5, required: 3 });
  });

  it('SIGTERM ends serve with exit 0, the state file holds the initialization', async () => {
    const exit = await emulator!.stop('SIGTERM');
    emulator = undefined;
    expect(exit).toEqual({ code: 0, signal: null });
    const info = await emulatorInfo(stateFile);
    expect(info.deviceChr).toBe(deviceChr);
    expect(info.initialized).toBe(true);
    expect(info.pka).toEqual({ m: 5, n: 3, registered: [] });
    expect(info.userPin).toEqual({ retries: 3, maxRetries: 3, transport: false });
    expect(info.soPin).toEqual({ retries: 15, maxRetries: 15 });
    // Saved atomically with mode 0600 (it holds key material in clear); the lock is gone.
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(() => statSync(`${stateFile}.lock`)).toThrow();
    // pcscd is still healthy: it lists the reader, now empty.
    const l = expectSuccess('opensc-tool -l', await card.openscTool('-l'));
    expect(l.stdout).toContain(card.reader);
  });

  it('a restarted serve from the same state shows the same status to sc-hsm-tool', async () => {
    emulator = await fleet.serve(stateFile, slots[0]!);
    expect(emulator.stderr()).toMatch(/serving .*dev\.json on vpcd 127\.0\.0\.1:\d+/);
    expect(await card.pkaStatus()).toEqual({ total: 5, missing: 5, required: 3, authenticated: 0 });
    const r = expectSuccess('opensc-tool -n', await card.openscTool('-n'));
    expect(r.stdout).toMatch(/^SmartCard-HSM\b/m);
  });

  it('a wrong SO-PIN on re-initialization costs a try, and the counter persists', async () => {
    // sc-hsm-tool exits 0 even when INITIALIZE fails: judge by the message and the counter.
    const r = await card.scHsmTool(
      '--initialize',
      '--so-pin',
      '1111111111111111',
      '--pin',
      USER_PIN,
    );
    expect(`${r.stdout}${r.stderr}`).toMatch(/SC_HSM_INITIALIZE.*PIN code or key incorrect/);
    const s = expectSuccess('sc-hsm-tool', await card.scHsmTool());
    expect(s.stdout).toMatch(/SO-PIN tries left\s+:\s+14/);
    // Still the PKA device of before: nothing was wiped.
    expect(await card.pkaStatus()).toEqual({ total: 5, missing: 5, required: 3, authenticated: 0 });
    expect((await emulatorInfo(stateFile)).soPin).toEqual({ retries: 14, maxRetries: 15 });
  });

  it('sc-hsm-tool --initialize without PKA re-initializes as a PIN-only device', async () => {
    expectSuccess('initialize', await card.initialize());
    const s = await card.scHsmTool('--public-key-auth-status');
    expect(s.code).not.toBe(0);
    expect(`${s.stdout}${s.stderr}`).toMatch(/not initialized for public key registration/);
    const r = expectSuccess('sc-hsm-tool', await card.scHsmTool());
    expect(r.stdout).toMatch(/SO-PIN tries left\s+:\s+15/);
    expect(r.stdout).toMatch(/User PIN tries left\s+:\s+3/);
    const info = await emulatorInfo(stateFile);
    expect(info.pka).toBeNull();
    expect(info.deviceChr).toBe(deviceChr);
  });

  it('the user PIN set by sc-hsm-tool is the one the card checks', async () => {
    const bad = await card.pkcs11Tool('--login', '--pin', '000000', '-O');
    expect(bad.code).not.toBe(0);
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/CKR_PIN_INCORRECT/);
    const after = expectSuccess('sc-hsm-tool', await card.scHsmTool());
    expect(after.stdout).toMatch(/User PIN tries left\s+:\s+2/);
    const good = await card.pkcs11Tool('--login', '--pin', USER_PIN, '-O');
    expectSuccess('pkcs11-tool --login -O', good);
    // The good PIN resets the counter the bad one used.
    const r = expectSuccess('sc-hsm-tool', await card.scHsmTool());
    expect(r.stdout).toMatch(/User PIN tries left\s+:\s+3/);
  });

  it('re-initialization keeps the SO-PIN it was given (a second PKA init works with it)', async () => {
    expectSuccess(
      'initialize again',
      await card.scHsmTool(
        '--initialize',
        '--so-pin',
        SO_PIN,
        '--pin',
        USER_PIN,
        '--public-key-auth',
        '3',
        '--required-pub-keys',
        '1',
      ),
    );
    expect(await card.pkaStatus()).toEqual({ total: 3, missing: 3, required: 1, authenticated: 0 });
    const exit = await emulator!.stop();
    emulator = undefined;
    expect(exit.code).toBe(0);
    expect((await emulatorInfo(stateFile)).pka).toEqual({ m: 3, n: 1, registered: [] });
  });
});
