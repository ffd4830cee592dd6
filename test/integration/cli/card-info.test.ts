/**
 * `custodian card info --emulator STATE.json` through the real launcher (bin/custodian.mjs):
 * genuine with the test root as trust anchor, "not genuine" with the reason without it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApduChannel } from '../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { generateEcKey } from '../../../core/sc-hsm/keys';
import { asciiBytes } from '../../../shared/codec/bytes';
import { createTestCa } from '../../../emulator/ca/ca-store';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState, saveState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../bin/custodian.mjs', import.meta.url));

let dir: string;
let stateFile: string;
let rootCvc: string;
let keyChr: string;
let rsaChr: string;
let k1Chr: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: dir, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'custodian-cli-'));
  const ca = createTestCa(join(dir, 'ca'));
  rootCvc = join(dir, 'ca', 'root.cvc');
  stateFile = join(dir, 'device.json');
  const state = createDeviceState(ca, { serial: 31 });
  saveState(stateFile, state);
  const card = new EmulatedSmartCardHsm(state, { onChange: (s) => saveState(stateFile, s) });
  const hsm = new SmartCardHsm(new ApduChannel(createInProcessTransport(card)));
  await hsm.select();
  await hsm.initialize({
    soPin: '3537363231383830',
    userPin: asciiBytes('648219'),
    pka: { m: 2, n: 1 },
  });
  await hsm.verifyPin(asciiBytes('648219'));
  keyChr = (await hsm.generateCustodianKey({ label: 'Alice (custodian)' })).chr;
  // Issue 8/13: an RSA signing key and a key on a curve added for OpenSC's list.
  rsaChr = (await hsm.generateRsaSigningKey({ label: 'release rsa', bits: 2048 })).chr;
  k1Chr = (
    await generateEcKey(hsm.channel, { label: 'k1', curve: 'secp256k1', algorithms: [0x70] })
  ).chr;
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('custodian card info --emulator', () => {
  it('shows a genuine device with its keys when the test root is trusted', async () => {
    const r = await cli('card', 'info', '--emulator', stateFile, '--trust-anchor', rootCvc);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /Genuine:\s+yes — chain \/UTCUSTSRCA\/UTCUSTDICA\/\S+ to trust anchor UTCUSTSRCA00001/,
    );
    expect(r.stdout).toMatch(/Initialized:\s+yes/);
    // A fresh selection: the PIN verified while setting up is not carried over.
    expect(r.stdout).toMatch(/User PIN:\s+not verified, 3 tries left/);
    expect(r.stdout).toMatch(/PKA:\s+1 of 2 required, 0 registered, 0 authenticated/);
    expect(r.stdout).toContain(
      `"Alice (custodian)"  CHR ${keyChr}  brainpoolP256r1  PKA-exportable`,
    );
    expect(r.stdout).toContain(`  2  "release rsa"  CHR ${rsaChr}  RSA 2048 bit\n`);
    expect(r.stdout).toContain(`  3  "k1"  CHR ${k1Chr}  secp256k1  PKA-exportable\n`);
  });

  it('explains why the device is not genuine without the test root', async () => {
    const r = await cli('card', 'info', '--emulator', stateFile, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.genuine).toEqual({
      genuine: false,
      code: 'unknown-root',
      reason: expect.stringMatching(
        /issued by UTCUSTSRCA00001, which is not a trusted root \(trusted: DESRCACC100001\)/,
      ),
    });
    expect(report.deviceId).toMatch(/^UTEMU\d+00031$/);
    expect(report.keys).toEqual([
      {
        id: 1,
        label: 'Alice (custodian)',
        chr: keyChr,
        type: 'ec',
        curve: 'brainpoolP256r1',
        size: 256,
        hasRequest: true,
      },
      { id: 2, label: 'release rsa', chr: rsaChr, type: 'rsa', size: 2048, hasRequest: true },
      {
        id: 3,
        label: 'k1',
        chr: k1Chr,
        type: 'ec',
        curve: 'secp256k1',
        size: 256,
        hasRequest: true,
      },
    ]);
    expect(report.pka).toEqual({ m: 2, missing: 2, n: 1, authenticated: 0 });
  });

  it('fails with one line and exit 2 for a missing state file', async () => {
    const r = await cli('card', 'info', '--emulator', join(dir, 'missing.json'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/missing\.json/);
  });
});
