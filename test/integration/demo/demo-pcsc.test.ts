/**
 * `npm run demo -- --pcsc` in-process: the target in vpcd reader 0 and alice's card in vpcd
 * reader 1, reached through the real pcscd, the other custodians in-process. Skipped locally
 * (failing in CI) when pcscd and two vpcd readers are not available.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { pcscHardware } from '../../../demo/pcsc';
import { FILE_COUNT, runDemo } from '../../../demo/run-demo';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';

const availability = await pcscAvailability();

describePcsc('demo --pcsc', availability, () => {
  it('reaches quorum over pcscd and verifies all signatures', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-pcsc-test-'));
    let text = '';
    const result = await runDemo({
      out: (t) => void (text += t),
      tmpRoot: root,
      hardware: pcscHardware,
    });
    expect(text).toMatch(/target card inserted into "[^"]+"/);
    expect(text).toMatch(/alice {2}card \S+, PKA key #\d+ CHR \S+ \(pcscd, reader/);
    expect(result.atQuorum).toEqual({ m: 5, missing: 0, n: 3, authenticated: 3 });
    expect(result.verifications.filter((v) => v.noble && v.openssl !== false)).toHaveLength(
      FILE_COUNT,
    );
    expect(result.afterUnlock.authenticated).toBe(0);
    expect(result.pinScan.leaks).toEqual([]);
    expect(readdirSync(root)).toEqual([]);
  }, 90_000);
});
