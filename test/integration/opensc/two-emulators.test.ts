/**
 * OpenSC conformance of the emulator, part 3: two `sc-hsm-emulator serve` processes at once in
 * vpcd's two readers, each a distinct device to OpenSC; a stopped emulator (SIGTERM, and a
 * SIGKILL crash) leaves pcscd healthy, the other card untouched and the port reusable; a
 * state file cannot be served twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import { describePcsc, pcscAvailability, type VpcdSlot } from '../helpers/pcscd';
import { emulatorCli, EmulatorFleet, type ServedEmulator } from './emulator-process';
import {
  createDevice,
  emulatorInfo,
  expectSuccess,
  OpenscCard,
  readerHasCard,
  USER_PIN,
} from './opensc-card';
import { runTool, withOpenscTools } from './opensc-tools';

const { availability, tools } = withOpenscTools(await pcscAvailability());

describePcsc('two emulator processes in vpcd readers, stop and restart', availability, (slots) => {
  type Device = {
    slot: VpcdSlot;
    state: string;
    chr: string;
    card: OpenscCard;
    served: ServedEmulator | undefined;
  };
  let dir: string;
  let pcsc: Pcsc;
  let fleet: EmulatorFleet;
  const devices: Device[] = [];
  /** OpenSC names a generated key after its device: holder (CHR without sequence) ‖ 00001. */
  const keyChr = (d: Device) => `${d.chr.slice(0, -5)}00001`;
  const listReaders = async () =>
    expectSuccess('opensc-tool -l', await runTool(tools!['opensc-tool'], ['-l'])).stdout;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opensc-two-'));
    pcsc = await openPcsc();
    fleet = new EmulatorFleet(pcsc);
    // Both readers of the issue: the vpcd base port and the next one.
    expect(slots.map((s) => s.port).slice(0, 2)).toEqual([35963, 35964]);
    for (const [i, slot] of slots.slice(0, 2).entries()) {
      const state = join(dir, `dev-${i}.json`);
      const chr = await createDevice(state, join(dir, 'ca'));
      devices.push({
        slot,
        state,
        chr,
        card: new OpenscCard(tools!, slot.reader),
        served: undefined,
      });
    }
  });

  afterAll(async () => {
    await fleet?.cleanup();
    await pcsc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('serves two devices at once; opensc-tool -l shows a card in both readers', async () => {
    for (const d of devices) d.served = await fleet.serve(d.state, d.slot);
    const listing = await listReaders();
    for (const d of devices) expect(readerHasCard(listing, d.slot.reader)).toBe(true);
    for (const d of devices) {
      const a = expectSuccess('opensc-tool -a', await d.card.openscTool('-a'));
      expect(a.stdout).toMatch(/^3b:fe:18:00:00:81:31:fe:45/m);
      const n = expectSuccess('opensc-tool -n', await d.card.openscTool('-n'));
      expect(n.stdout).toMatch(/^SmartCard-HSM\b/m);
    }
  });

  it('each reader reaches its own device (different PKA set-ups, different serials)', async () => {
    const [a, b] = [devices[0]!, devices[1]!];
    expectSuccess('initialize a', await a.card.initialize({ total: 2, required: 1 }));
    expectSuccess('initialize b', await b.card.initialize({ total: 4, required: 2 }));
    expect(await a.card.pkaStatus()).toMatchObject({ total: 2, required: 1 });
    expect(await b.card.pkaStatus()).toMatchObject({ total: 4, required: 2 });
    for (const d of devices) {
      const l = expectSuccess('pkcs11-tool -L', await d.card.pkcs11Tool('-L'));
      // OpenSC shows the holder of the device CHR (without its 5-digit sequence) as serial.
      const section = l.stdout.slice(l.stdout.indexOf(d.slot.reader));
      expect(section).toMatch(new RegExp(`serial num\\s+:\\s+${d.chr.slice(0, -5)}\\b`));
    }
    expect(devices[0]!.chr).not.toBe(devices[1]!.chr);
  });

  it('sc-hsm-tool exports a key of one device and registers it at the other (PKA)', async () => {
    const [a, b] = [devices[0]!, devices[1]!];
    // The custodian device: PIN only, so the user can generate keys.
    expectSuccess('initialize a (PIN only)', await a.card.initialize());
    const pkaFiles: string[] = [];
    for (const [i, curve] of ['brainpoolP256r1', 'prime256v1'].entries()) {
      expectSuccess(
        `keypairgen ${curve}`,
        await a.card.pkcs11Tool(
          '--login',
          '--pin',
          USER_PIN,
          '--keypairgen',
          '--key-type',
          `EC:${curve}`,
          '--label',
          `custodian-${i + 1}`,
        ),
      );
      const file = join(dir, `key-${i + 1}.pka`);
      const e = expectSuccess(
        'export-for-pub-key-auth',
        await a.card.scHsmTool('--export-for-pub-key-auth', file, '--key-reference', String(i + 1)),
      );
      // The test root is not one OpenSC knows: it says so, and exports all the same.
      expect(`${e.stdout}${e.stderr}`).toMatch(/Device certificate chain not verified/);
      pkaFiles.push(file);
    }
    const [first, second] = [pkaFiles[0]!, pkaFiles[1]!];
    expectSuccess('register', await b.card.scHsmTool('--register-public-key', first));
    expect(await b.card.pkaStatus()).toEqual({
      total: 4,
      missing: 3,
      required: 2,
      authenticated: 0,
    });
    // The same key again, and a second key of the same device: OpenSC names every key of a
    // device holder ‖ 00001, so its CHR clashes (docs/card-reference.md §6.2 CHR row, §6.4: duplicate CHR → 6985).
    for (const again of [first, second]) {
      const r = await b.card.scHsmTool('--register-public-key', again);
      expect(r.code).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/REGISTER_PUBLIC_KEY.*Not allowed/);
    }
    expect((await b.card.pkaStatus()).missing).toBe(3);
    expect((await emulatorInfo(b.state)).pka).toEqual({ m: 4, n: 2, registered: [keyChr(a)] });
  });

  it('a state file already being served is refused (exit 2), the running one is unharmed', async () => {
    const a = devices[0]!;
    const r = await emulatorCli([
      'serve',
      '--state',
      a.state,
      '--vpcd',
      `127.0.0.1:${a.slot.port}`,
      '--connect-timeout',
      '2000',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`in use by process ${a.served!.pid}`));
    const s = expectSuccess('sc-hsm-tool', await a.card.scHsmTool());
    expect(s.stdout).toMatch(/User PIN tries left\s+:\s+3/);
  });

  it('SIGTERM on one: exit 0, pcscd healthy, the other card still answers', async () => {
    const [a, b] = [devices[0]!, devices[1]!];
    expect(await a.served!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    a.served = undefined;
    expect(a.served).toBeUndefined();
    const listing = await listReaders();
    expect(readerHasCard(listing, a.slot.reader)).toBe(false);
    expect(readerHasCard(listing, b.slot.reader)).toBe(true);
    expect(await b.card.pkaStatus()).toMatchObject({ total: 4, required: 2 });
    const gone = await a.card.openscTool('-a');
    expect(`${gone.stdout}${gone.stderr}`).not.toMatch(/3b:fe:18/);
    const info = await emulatorInfo(a.state);
    expect(info.pka).toBeNull();
    expect(info.keys.map((k) => [k.id, k.curve, k.chr])).toEqual([
      [1, 'brainpoolP256r1', keyChr(a)],
      [2, 'secp256r1', keyChr(a)],
    ]);
  });

  it('a restarted emulator on the same port is usable again, with its state', async () => {
    const a = devices[0]!;
    a.served = await fleet.serve(a.state, a.slot);
    expect(readerHasCard(await listReaders(), a.slot.reader)).toBe(true);
    const o = expectSuccess(
      'pkcs11-tool -O',
      await a.card.pkcs11Tool('--login', '--pin', USER_PIN, '-O'),
    );
    expect(o.stdout.match(/Private Key Object; EC/g)).toHaveLength(2);
    expect(o.stdout).toContain('label:      custodian-1');
    expect(o.stdout).toContain('label:      custodian-2');
  });

  it('SIGKILL (a crash) also leaves pcscd healthy; every change was already on disk', async () => {
    const b = devices[1]!;
    // A change right before the crash: a wrong SO-PIN costs a try, persisted at once.
    await b.card.scHsmTool('--initialize', '--so-pin', '0000000000000000', '--pin', USER_PIN);
    const before = expectSuccess('sc-hsm-tool', await b.card.scHsmTool());
    expect(before.stdout).toMatch(/SO-PIN tries left\s+:\s+14/);
    expect(await b.served!.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    b.served = undefined;
    const listing = await listReaders();
    expect(readerHasCard(listing, b.slot.reader)).toBe(false);
    expect(readerHasCard(listing, devices[0]!.slot.reader)).toBe(true);
    const info = await emulatorInfo(b.state);
    expect(info.soPin).toEqual({ retries: 14, maxRetries: 15 });
    expect(info.pka).toEqual({ m: 4, n: 2, registered: [keyChr(devices[0]!)] });
    // The stale lock of the killed process is taken over on restart.
    b.served = await fleet.serve(b.state, b.slot);
    expect(await b.card.pkaStatus()).toMatchObject({ total: 4, required: 2 });
    const after = expectSuccess('sc-hsm-tool', await b.card.scHsmTool());
    expect(after.stdout).toMatch(/SO-PIN tries left\s+:\s+14/);
  });

  it('both stop cleanly at the end, and pcscd lists both readers empty', async () => {
    for (const d of devices) {
      expect((await d.served!.stop()).code).toBe(0);
      d.served = undefined;
    }
    const listing = await listReaders();
    for (const d of devices) expect(readerHasCard(listing, d.slot.reader)).toBe(false);
  });
});
