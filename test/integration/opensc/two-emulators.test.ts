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
    expect(await a.card.pkaStatus()).toMatchObject({ total: 2, required: 1 });
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
    expect((await emulatorInfo(a.state)).pka).toEqual({ m: 2, n: 1, registered: [] });
  });

  it('a restarted emulator on the same port is usable again, with its state', async () => {
    const a = devices[0]!;
    a.served = await fleet.serve(a.state, a.slot);
    expect(readerHasCard(await listReaders(), a.slot.reader)).toBe(true);
    expect(await a.card.pkaStatus()).toEqual({
      total: 2,
      missing: 2,
      required: 1,
      authenticated: 0,
    });
  });

  it('SIGKILL (a crash) also leaves pcscd healthy; every change was already on disk', async () => {
    const b = devices[1]!;
    // A change right before the crash: a wrong SO-PIN costs a try, persisted at once.
    await b.card.scHsmTool('--initialize', '--so-pin', '0000000000000000', '--pin', '648219');
    const before = expectSuccess('sc-hsm-tool', await b.card.scHsmTool());
    expect(before.stdout).toMatch(/SO-PIN tries left\s+:\s+14/);
    expect(await b.served!.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    b.served = undefined;
    const listing = await listReaders();
    expect(readerHasCard(listing, b.slot.reader)).toBe(false);
    expect(readerHasCard(listing, devices[0]!.slot.reader)).toBe(true);
    const info = await emulatorInfo(b.state);
    expect(info.soPin).toEqual({ retries: 14, maxRetries: 15 });
    expect(info.pka).toEqual({ m: 4, n: 2, registered: [] });
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
