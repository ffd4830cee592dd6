import { describe, expect, it } from 'vitest';
import { main } from '../../../cli/main';
import type { CliDeps, CliIo } from '../../../cli/context';
import { chainStatusOf } from '../../../core/desktop-backend/card-views';
import { generateTestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { concatBytes } from '../../../shared/codec/bytes';
import { anchorFromCvc, deviceIdOf, productionAnchor } from '../../../shared/cvc/chain';
import { parseCvcAt } from '../../../shared/cvc/cvc';
import { unwrap } from '../../../shared/result';

// An independent SmartCard-HSM implementation stores only the device certificate in EF 2F02
// (no DICA after it). The device still has an id — the CHR of the first CVC — and the report
// must name it while saying the chain cannot be checked, in the CLI and in the desktop view.

const ca = generateTestCa();
const full = createDeviceState(ca, { serial: 31 });
const ef = full.identity.certificates;
const deviceEnd = unwrap(parseCvcAt(ef, 0)).end;
const deviceOnly = ef.slice(0, deviceEnd);
const expectedId = deviceIdOf(ef) ?? '';

/** Variants of EF 2F02 that keep a readable device certificate first. */
const variants: [string, Uint8Array][] = [
  ['device certificate only', deviceOnly],
  ['device certificate and zero padding', concatBytes(deviceOnly, new Uint8Array(16))],
  [
    'device certificate and a broken DICA',
    concatBytes(deviceOnly, Uint8Array.of(0x7f, 0x21, 0x05)),
  ],
];

function capture(): CliIo & { stdout: string; stderr: string } {
  const c = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (c.stdout += t),
    err: (t: string) => void (c.stderr += t),
  };
  return c;
}

function depsFor(certificates: Uint8Array): Partial<CliDeps> {
  const state = { ...full, identity: { ...full.identity, certificates } };
  return {
    settleMs: 0,
    now: () => new Date(),
    openEmulator: async () => createInProcessTransport(new EmulatedSmartCardHsm(state)),
    readFile: async () => ca.root.cvc,
  };
}

describe('card info when EF 2F02 holds a device certificate without a DICA', () => {
  it('the full chain reads the same id (control)', () => {
    expect(expectedId).toMatch(/^UTEMU\d+00031$/);
  });

  it.each(variants)('%s: cli reports the device id and why it is not genuine', async (_n, cert) => {
    const json = capture();
    const code = await main(
      ['card', 'info', '--emulator', 'x.json', '--trust-anchor', 'root.cvc', '--json'],
      depsFor(cert),
      json,
    );
    expect(code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      deviceId?: string;
      genuine: { genuine: boolean; reason?: string };
    };
    expect(report.deviceId).toBe(expectedId);
    expect(report.genuine.genuine).toBe(false);
    expect(report.genuine.reason).toMatch(/DICA/);

    const text = capture();
    await main(
      ['card', 'info', '--emulator', 'x.json', '--trust-anchor', 'root.cvc'],
      depsFor(cert),
      text,
    );
    expect(text.stdout).toContain(expectedId);
    expect(text.stdout).toMatch(/NOT GENUINE — .*DICA/);
  });

  it.each(variants)('%s: the desktop card view reports the id as invalid', (_n, cert) => {
    const anchors = [productionAnchor(), unwrap(anchorFromCvc(ca.root.cvc, 'test'))];
    const v = chainStatusOf(cert, anchors, new Date());
    expect(v.deviceId).toBe(expectedId);
    expect(v.status.status).toBe('invalid');
    expect(v.status).toMatchObject({ detail: expect.stringMatching(/DICA/) });
  });

  it('an unreadable first certificate has no id', () => {
    expect(deviceIdOf(Uint8Array.of(0x7f, 0x21, 0x05, 1))).toBeUndefined();
    expect(deviceIdOf(undefined)).toBeUndefined();
    expect(deviceIdOf(new Uint8Array(0))).toBeUndefined();
  });
});
