import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OFFER_DISPLAY_DIGEST_PATTERN,
  offerDisplayDigest,
  type OfferDisplay,
} from '../../../../shared/policy/offer-display-digest';

const base: OfferDisplay = {
  ceremonyId: 'cer-1',
  offerId: 'off-1',
  targetDeviceId: 'UTEMU1234500001',
  targetLabel: 'Root CA HSM',
  challenge: '0102030405060708',
  keyId: 1,
  keyChr: 'UTCUSTOD00001',
  purpose: 'Sign the CRL',
  requester: 'alice',
  anchorChr: 'UTCUSTSRCA00001',
  anchorTest: true,
  quorum: { n: 2, m: 3 },
  expiresAt: '2026-12-07T01:00:00Z',
};

describe('7.3 offer display digest', () => {
  it('7.3 is 64 lower-case hex digits, stable, and ignores only the challenge hex case', () => {
    const d = offerDisplayDigest(base);
    expect(d).toMatch(OFFER_DISPLAY_DIGEST_PATTERN);
    expect(offerDisplayDigest({ ...base })).toBe(d);
    expect(offerDisplayDigest({ ...base, challenge: base.challenge.toUpperCase() })).toBe(d);
  });

  it('7.3 every field that is shown changes it (the class, not one field)', () => {
    const variants: Partial<OfferDisplay>[] = [
      { ceremonyId: 'cer-2' },
      { offerId: 'off-2' },
      { targetDeviceId: 'UTEMU12345000012' },
      { targetLabel: 'Root CA HSM ' },
      { challenge: '0102030405060709' },
      { keyId: 2 },
      { keyChr: 'UTCUSTOD00002' },
      { purpose: 'Sign the CRL!' },
      { requester: 'mallory' },
      { anchorChr: 'DESRCACC100001' },
      { anchorTest: false },
      { quorum: { n: 1, m: 3 } },
      { quorum: { n: 2, m: 4 } },
      { expiresAt: '2026-12-07T01:00:01Z' },
    ];
    const d = offerDisplayDigest(base);
    const all = new Set([d]);
    for (const v of variants) all.add(offerDisplayDigest({ ...base, ...v }));
    expect(all.size).toBe(variants.length + 1);
  });

  it('7.3 field boundaries are unambiguous (device id ‖ challenge shifts collide nowhere)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        fc.pre(a + b !== a || b.length > 0);
        fc.pre(c.length > 0);
        const one = offerDisplayDigest({ ...base, targetDeviceId: a + c, targetLabel: b });
        const two = offerDisplayDigest({ ...base, targetDeviceId: a, targetLabel: c + b });
        expect(one).not.toBe(two);
      }),
    );
  });
});
