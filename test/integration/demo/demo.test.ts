/**
 * `npm run demo` in-process: the whole 3-of-5 story must end with quorum read from the card,
 * the three approvers recorded, ten signatures verified, the unlock ended, no PIN in any frame
 * or server file, and the temporary directory removed. Also: the PIN scan really finds a PIN
 * (so "no leak" means something), and a failing step cleans up and throws a clear error.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUSTODIANS } from '../../../demo/cards';
import { APPROVERS } from '../../../demo/ceremony-steps';
import { scanForPins } from '../../../demo/pin-scan';
import { FILE_COUNT, runDemo } from '../../../demo/run-demo';
import { asciiBytes, toHex } from '../../../shared/codec/bytes';

describe('demo', () => {
  it('runs 3-of-5 end to end: quorum from the card, 10 verified signatures, no PIN leaves', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-test-'));
    let text = '';
    const result = await runDemo({ out: (t) => void (text += t), tmpRoot: root });

    // Quorum as the target card itself reported it (80 54), and who approved.
    expect(result.atQuorum).toEqual({ m: 5, missing: 0, n: 3, authenticated: 3 });
    expect(result.ceremonyState).toBe('quorum');
    expect([...result.approvedBy].sort()).toEqual([...APPROVERS].sort());
    // Ten files, each verified with @noble and (when present) openssl.
    expect(result.verifications).toHaveLength(FILE_COUNT);
    expect(new Set(result.verifications.map((v) => v.file)).size).toBe(FILE_COUNT);
    for (const v of result.verifications) {
      expect(v.noble).toBe(true);
      expect(v.openssl).not.toBe(false);
    }
    // The unlock window ended with the tenth signature: the card dropped every authentication.
    expect(result.afterUnlock.authenticated).toBe(0);
    // Frames were really observed (enrollment, offers, decisions), and none carried a PIN.
    expect(result.pinScan.frames).toBeGreaterThan(20);
    expect(result.pinScan.files).toBeGreaterThan(0);
    expect(result.pinScan.leaks).toEqual([]);
    expect(result.anchorChr).toMatch(/^UT/);
    // Narration: numbered steps, the TEST anchor said loudly, status after each approval.
    expect(result.steps).toBeGreaterThanOrEqual(12);
    expect(text).toContain('TRUST ANCHOR IS A TEST ROOT');
    expect(text).toContain(result.targetDeviceId);
    expect(text).toContain('m=5 missing=0 n=3 authenticated=1');
    expect(text).toContain('m=5 missing=0 n=3 authenticated=2');
    for (const c of CUSTODIANS) expect(text).not.toContain(c.pin);
    // All temporary state is gone.
    expect(result.keptDir).toBeUndefined();
    expect(readdirSync(root)).toEqual([]);
  }, 60_000);

  it('keeps its directory with keep: true (signatures and manifest inside)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-test-'));
    const result = await runDemo({ out: () => undefined, tmpRoot: root, keep: true });
    expect(result.keptDir).toBeDefined();
    expect(existsSync(join(result.keptDir!, 'signatures', 'manifest.json'))).toBe(true);
    expect(existsSync(join(result.keptDir!, 'signatures', 'key.pem'))).toBe(true);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('fails with a clear message and cleans up when a step fails', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-test-'));
    let text = '';
    await expect(
      runDemo({
        out: (t) => void (text += t),
        tmpRoot: root,
        hardware: () => Promise.reject(new Error('no card in reader 0')),
      }),
    ).rejects.toThrow('no card in reader 0');
    expect(readdirSync(root)).toEqual([]);
    expect(text).toContain('[ 2]');
  });
});

describe('demo PIN scan', () => {
  const pin = CUSTODIANS[0]!.pin;
  const clean = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pin-scan-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'db'), 'nothing to see');
    return dir;
  };

  it('finds a PIN as text, as hex and inside a VERIFY APDU, in frames and files', () => {
    const dir = clean();
    const frame = (text: string) => [{ custodian: 'alice', dir: 'sent' as const, text }];
    expect(scanForPins(frame('{"pin":"x"}'), [dir], [pin]).leaks).toEqual([]);
    expect(scanForPins(frame(`{"x":"${pin}"}`), [dir], [pin]).leaks).toHaveLength(1);
    expect(
      scanForPins(frame(`{"x":"${toHex(asciiBytes(pin)).toUpperCase()}"}`), [dir], [pin]).leaks,
    ).toHaveLength(1);
    expect(
      scanForPins(frame(`{"apdu":"0020008108${toHex(asciiBytes(pin))}"}`), [dir], [pin]).leaks,
    ).toHaveLength(1);
    writeFileSync(join(dir, 'sub', 'audit.jsonl'), `{"typed":"${pin}"}`);
    const inFile = scanForPins([], [dir], [pin]);
    expect(inFile.files).toBe(2);
    expect(inFile.leaks).toEqual([expect.stringContaining('audit.jsonl')]);
  });
});
