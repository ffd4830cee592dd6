import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testAnchorRefusal } from '../../../../core/desktop-backend/approvals';
import type { OfferView } from '../../../../core/custodian/engine-types';
import { verifyOffer } from '../../../../core/custodian/offer-verify';
import { PRODUCTION_ROOT_CHR, productionAnchor } from '../../../../shared/cvc/chain';
import { unwrap } from '../../../../shared/result';
import { anchorOf, makeOffer, targetDevice } from '../../../integration/custodian/harness';
import { displayDigestOf } from '../../../../core/custodian/offer-view';

const KEY = { keyId: 1, chr: 'UTCUSTOD00001' };
const target = targetDevice(778);

// `production`: the test PKI's root stands in for a built-in root (only the anchor's source
// decides TEST in the engine, core/custodian/offer-verify.ts isTestAnchor).
function view(production: boolean): OfferView {
  const anchor = anchorOf();
  const offer = makeOffer(target, KEY, { quorum: { n: 2, m: 3 } });
  const verified = unwrap(
    verifyOffer(offer, {
      anchors: [productionAnchor(), production ? { ...anchor, source: 'built-in' } : anchor],
      ownKey: KEY,
      now: new Date(),
    }),
  );
  return {
    ceremonyId: offer.ceremonyId,
    offerId: offer.offerId,
    phase: 'pending',
    progress: offer.progress,
    verified,
    displayDigest: displayDigestOf(verified),
  };
}

describe('approvals: the TEST-root acknowledgement (defence in depth behind the renderer)', () => {
  const test = view(false);
  const genuine = view(true);
  const root = test.verified.anchor.chr;

  it('a TEST target needs the acknowledgement of exactly its root', () => {
    expect(test.verified.anchor.test).toBe(true);
    expect(testAnchorRefusal(test, root)).toBeUndefined();
    expect(testAnchorRefusal(test, undefined)).toMatchObject({
      code: 'test-anchor-unacknowledged',
      message: expect.stringContaining(root),
    });
    expect(testAnchorRefusal(test, PRODUCTION_ROOT_CHR)?.code).toBe('test-anchor-unacknowledged');
    expect(testAnchorRefusal(test, root.toLowerCase())?.code).toBe('test-anchor-unacknowledged');
  });

  it('a target on a built-in root needs none, and refuses one (a confused renderer)', () => {
    expect(genuine.verified.anchor.test).toBe(false);
    expect(testAnchorRefusal(genuine, undefined)).toBeUndefined();
    expect(testAnchorRefusal(genuine, root)?.code).toBe('invalid-request');
  });

  it('any other acknowledgement string is refused for either target', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (ack) => {
        fc.pre(ack !== root);
        expect(testAnchorRefusal(test, ack)?.code).toBe('test-anchor-unacknowledged');
        expect(testAnchorRefusal(genuine, ack)?.code).toBe('invalid-request');
      }),
    );
  });
});
