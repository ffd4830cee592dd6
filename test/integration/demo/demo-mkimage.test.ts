/**
 * `npm run demo -- --mkimage`: after the 3-of-5 story, mkimage signs a FIT image through the
 * PKCS#11 module, whose C_Login requests a second ceremony that the three approvers approve;
 * the signature equals mkimage's with the key as PEM and control.dtb holds the target's key.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasFitTools } from '../../../demo/mkimage-steps';
import { runDemo } from '../../../demo/run-demo';

describe.skipIf(!hasFitTools() && process.env.CI !== 'true')('demo --mkimage', () => {
  it('signs a FIT through the module after a second 3-of-5 ceremony and proves it', async () => {
    let text = '';
    const result = await runDemo({
      out: (t) => void (text += t),
      tmpRoot: mkdtempSync(join(tmpdir(), 'demo-mkimage-')),
      mkimage: true,
    });
    expect(result.fit).toBeDefined();
    expect(result.fit!.sameAsPem).toBe(true);
    expect(result.fit!.dtbKeyIsTargets).toBe(true);
    expect(result.fit!.signatureBytes).toBe(256);
    expect(text).toMatch(/requested by build01 \(PKCS#11\): demo build machine/);
    expect(text).toMatch(/FIT image signed through PKCS#11 and proven/);
    expect(result.pinScan.leaks).toEqual([]);
  }, 300_000);
});
