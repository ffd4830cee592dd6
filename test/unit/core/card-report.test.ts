import { describe, expect, it } from 'vitest';
import { deviceReport } from '../../../core/card-report';
import { generateTestCa } from '../../../emulator/ca/test-ca';
import { createDeviceState } from '../../../emulator/card/state-file';
import { anchorFromCvc, productionAnchor } from '../../../shared/cvc/chain';
import { parseCvcAt } from '../../../shared/cvc/cvc';
import { unwrap } from '../../../shared/result';

// One reading of EF 2F02 for both front ends (cli card info, desktop card view).
const ca = generateTestCa();
const ef = createDeviceState(ca, { serial: 61 }).identity.certificates;
const testAnchor = unwrap(anchorFromCvc(ca.root.cvc, 'root.cvc'));
const now = new Date();

describe('deviceReport', () => {
  it('genuine through a configured root: id, anchor, path', () => {
    const r = deviceReport(ef, [productionAnchor(), testAnchor], now);
    expect(r).toMatchObject({ genuine: true, deviceId: expect.stringMatching(/^UTEMU\d+00061$/) });
    if (!r.genuine) throw new Error('expected genuine');
    expect(r.anchor.source).toBe('configured');
    expect(r.path).toMatch(/^\/UTCUSTSRCA\/UTCUSTDICA\//);
  });

  it('not genuine without the root, and still names the device', () => {
    const r = deviceReport(ef, [productionAnchor()], now);
    expect(r).toMatchObject({ genuine: false, code: 'unknown-root' });
    expect(r.deviceId).toMatch(/^UTEMU\d+00061$/);
  });

  it('no EF 2F02, or only the device certificate', () => {
    expect(deviceReport(undefined, [testAnchor], now)).toEqual({
      genuine: false,
      deviceId: undefined,
      code: 'no-device-certificate',
      reason: 'the card has no device certificate (EF 2F02)',
    });
    const deviceOnly = ef.slice(0, unwrap(parseCvcAt(ef, 0)).end);
    const r = deviceReport(deviceOnly, [testAnchor], now);
    expect(r).toMatchObject({ genuine: false, code: 'malformed', reason: /DICA/ });
    expect(r.deviceId).toMatch(/^UTEMU\d+00061$/);
  });
});
