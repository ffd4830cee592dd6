import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChainCache, type ChainValidator } from '../../../../core/custodian/chain-cache';
import { verifyOffer, type VerifyContext } from '../../../../core/custodian/offer-verify';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import { toHex } from '../../../../shared/codec/bytes';
import { anchorFromCvc, validateDeviceChain } from '../../../../shared/cvc/chain';
import type { OfferMessage } from '../../../../shared/protocol/index';
import { unwrap } from '../../../../shared/result';
import {
  anchorOf,
  hexApdu,
  makeOffer,
  pkaSign,
  targetDevice,
} from '../../../integration/custodian/harness';

const KEY = { keyId: 1, chr: 'UTCUSTOD00001' };
const target = targetDevice(401);
const otherTarget = targetDevice(402);
const anchor = anchorOf();
const otherRoot = unwrap(anchorFromCvc(generateTestCa().root.cvc, 'other root'));
const MIN = 60_000;

function counting() {
  const calls = { n: 0 };
  const validator: ChainValidator = (bytes, anchors, now) => {
    calls.n += 1;
    return validateDeviceChain(bytes, anchors, now);
  };
  return { calls, cache: createChainCache({ validator }) };
}

describe('verifyOffer with the chain cache', () => {
  it('the re-check before the card reuses the chain ECDSA and gives the same result', () => {
    const { calls, cache } = counting();
    const offer = makeOffer(target, KEY);
    const ctx: VerifyContext = { anchors: [anchor], ownKey: KEY, now: new Date() };
    const arrival = verifyOffer(offer, { ...ctx, chainCache: cache });
    const recheck = verifyOffer(offer, { ...ctx, chainCache: cache });
    expect(arrival.ok).toBe(true);
    expect(recheck).toEqual(arrival);
    expect(recheck).toEqual(verifyOffer(offer, ctx));
    expect(calls.n).toBe(1);
  });

  it('a hit still refuses what changed: expiry, key, anchors, certificate dates, script', () => {
    const { calls, cache } = counting();
    const offer = makeOffer(target, KEY);
    const now = new Date();
    const ctx: VerifyContext = { anchors: [anchor], ownKey: KEY, now, chainCache: cache };
    expect(verifyOffer(offer, ctx).ok).toBe(true);
    const code = (c: VerifyContext, o: OfferMessage = offer) => {
      const r = verifyOffer(o, c);
      return r.ok ? 'accepted' : r.error.code;
    };
    expect(code({ ...ctx, now: new Date(now.getTime() + 30 * MIN) })).toBe('expired');
    expect(code({ ...ctx, ownKey: { keyId: 2, chr: KEY.chr } })).toBe('wrong-key');
    expect(code({ ...ctx, anchors: [] })).toBe('untrusted-anchor');
    expect(code({ ...ctx, anchors: [otherRoot] })).toBe('chain-invalid');
    // The device certificate is valid for 15 years (root 30, DICA 20): 17 years on, the cached
    // chain is refused for the device certificate's date.
    const late = new Date(now.getTime() + 17 * 365 * 24 * 60 * MIN);
    const refused = verifyOffer(offer, { ...ctx, now: late });
    expect(refused.ok === false && refused.error.message).toMatch(/device certificate \S+ expired/);
    // Same chain (a hit), another script: the fresh firewall dry run refuses it.
    const select = hexApdu({ cla: 0, ins: 0xa4, p1: 4, p2: 0, data: new Uint8Array(3) });
    const withSelect = { ...offer, script: { apdus: [select, ...offer.script.apdus] } };
    expect(code(ctx, withSelect)).toBe('script-refused');
    const hitsBefore = cache.stats().hits;
    expect(code(ctx)).toBe('accepted');
    expect(cache.stats().hits).toBe(hitsBefore + 1);
    expect(calls.n).toBeLessThanOrEqual(4);
  });

  it('fuzz: with and without the cache, every offer gets exactly the same verdict', () => {
    const cache = createChainCache({ capacity: 4 });
    const now = new Date();
    const tamper = (hex: string, at: number) => {
      const b = Uint8Array.from(hex.match(/../g)!.map((x) => parseInt(x, 16)));
      b[at % b.length]! ^= 0x5a;
      return toHex(b);
    };
    const offerArb = fc.record({
      chain: fc.oneof(
        fc.constant('ok'),
        fc.constant('other'),
        fc.constant('not-hex'),
        fc.constant('empty'),
        fc.nat(),
      ),
      deviceMatches: fc.boolean(),
      expiresInMin: fc.constantFrom(-10, 1, 10, 59, 61, 200),
      keyId: fc.constantFrom(1, 2),
      keyChr: fc.constantFrom(KEY.chr, 'UTOTHER00001'),
      quorumMet: fc.boolean(),
      challenge: fc.constantFrom('valid', 'zz', ''),
      script: fc.constantFrom('sign', 'challenge+sign', 'sign+sign', 'select', 'none', 'other-chr'),
      anchors: fc.constantFrom('mine', 'other', 'both', 'both-reversed', 'none'),
      laterDays: fc.constantFrom(0, 1, 365 * 17, 365 * 40),
      ownChr: fc.boolean(),
    });
    fc.assert(
      fc.property(offerArb, (p) => {
        const base = makeOffer(target, KEY);
        const good = base.target.chain;
        const chain =
          p.chain === 'ok'
            ? good
            : p.chain === 'other'
              ? toHex(otherTarget.chain)
              : p.chain === 'not-hex'
                ? 'zz'
                : p.chain === 'empty'
                  ? ''
                  : tamper(good, p.chain);
        const sign = base.script.apdus[0]!;
        const apdus = {
          sign: [sign],
          'challenge+sign': ['0084000008', sign],
          'sign+sign': [sign, sign],
          select: ['00a4040000'],
          none: [],
          'other-chr': [pkaSign(KEY.keyId, otherTarget.chr, new Uint8Array(8))],
        }[p.script];
        const offer: OfferMessage = {
          ...base,
          target: {
            ...base.target,
            chain,
            deviceId: p.deviceMatches ? base.target.deviceId : 'UTEMU9999999999',
          },
          expiresAt: new Date(now.getTime() + p.expiresInMin * MIN).toISOString(),
          key: { keyId: p.keyId, chr: p.keyChr },
          progress: { authenticated: p.quorumMet ? 2 : 0, approvedBy: [] },
          challenge: p.challenge === 'valid' ? base.challenge : p.challenge,
          script: { apdus },
        };
        const anchors = {
          mine: [anchor],
          other: [otherRoot],
          both: [anchor, otherRoot],
          'both-reversed': [otherRoot, anchor],
          none: [],
        }[p.anchors];
        const ctx: VerifyContext = {
          anchors,
          ownKey: p.ownChr ? KEY : { keyId: KEY.keyId },
          now: new Date(now.getTime() + p.laterDays * 24 * 60 * MIN),
        };
        expect(verifyOffer(offer, { ...ctx, chainCache: cache })).toEqual(verifyOffer(offer, ctx));
      }),
      { numRuns: 150 },
    );
    expect(cache.stats().hits).toBeGreaterThan(0);
  });
});
