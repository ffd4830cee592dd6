import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chainCacheKey,
  createChainCache,
  type ChainValidator,
} from '../../../../core/custodian/chain-cache';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import {
  anchorFromCvc,
  splitDeviceCertificates,
  validateDeviceChain,
} from '../../../../shared/cvc/chain';
import { unwrap } from '../../../../shared/result';
import { anchorOf, targetDevice, testCa } from '../../../integration/custodian/harness';

/** The real validation, counted: every call is the chain's ECDSA run again. */
function counting() {
  const calls = { n: 0 };
  const validator: ChainValidator = (bytes, anchors, now) => {
    calls.n += 1;
    return validateDeviceChain(bytes, anchors, now);
  };
  return { calls, validator };
}

const DAY = 24 * 3600_000;
const target = targetDevice(301);
const anchor = anchorOf();

/** EF 2F02 with the last byte of the device certificate's signature flipped. */
function tamperedSignature(chain: Uint8Array): Uint8Array {
  const copy = chain.slice();
  const device = unwrap(splitDeviceCertificates(chain)).device;
  copy[device.encoded.length - 1]! ^= 0x01;
  return copy;
}

describe('device-chain cache', () => {
  it('a hit returns the fresh verdict without validating again', () => {
    const { calls, validator } = counting();
    const cache = createChainCache({ validator });
    const now = new Date();
    const first = cache.validate(target.chain, [anchor], now);
    const second = cache.validate(target.chain, [anchor], now);
    expect(first.genuine).toBe(true);
    expect(second).toEqual(validateDeviceChain(target.chain, [anchor], now));
    expect(calls.n).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
  });

  it('another anchor set is a miss: other anchors, other order, other label, other source', () => {
    const { calls, validator } = counting();
    const cache = createChainCache({ validator });
    const other = unwrap(anchorFromCvc(generateTestCa().root.cvc, 'other root'));
    const now = new Date();
    const sets = [
      [anchor],
      [other, anchor],
      [anchor, other],
      [{ ...anchor, label: 'relabelled' }],
      [{ ...anchor, source: 'built-in' as const }],
    ];
    for (const set of sets) expect(cache.validate(target.chain, set, now).genuine).toBe(true);
    expect(calls.n).toBe(sets.length);
    // Test roots share one CHR: a set with only the other root is a miss and is refused.
    const refused = cache.validate(target.chain, [other], now);
    expect(refused.genuine === false && refused.code).toBe('bad-dica-signature');
    expect(calls.n).toBe(sets.length + 1);
    // Not stored when the genuine anchor is not the first candidate: a fresh validation could
    // pick the earlier one once its dates hold, so only a first-candidate verdict is reused.
    cache.validate(target.chain, [other, anchor], now);
    expect(calls.n).toBe(sets.length + 2);
    cache.validate(target.chain, [anchor, other], now);
    expect(calls.n).toBe(sets.length + 2);
    expect(new Set(sets.map((s) => chainCacheKey(target.chain, s))).size).toBe(sets.length);
  });

  it('a tampered chain is a miss and is refused, every time (failures are never cached)', () => {
    const { calls, validator } = counting();
    const cache = createChainCache({ validator });
    const now = new Date();
    expect(cache.validate(target.chain, [anchor], now).genuine).toBe(true);
    const bad = tamperedSignature(target.chain);
    for (let i = 0; i < 2; i++) {
      const v = cache.validate(bad, [anchor], now);
      expect(v.genuine === false && v.code).toBe('bad-device-signature');
    }
    expect(calls.n).toBe(3);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 3, size: 1 });
  });

  it('a hit still checks the dates against the day it is asked for', () => {
    const { calls, validator } = counting();
    const cache = createChainCache({ validator });
    const now = new Date();
    expect(cache.validate(target.chain, [anchor], now).genuine).toBe(true);
    for (const later of [
      new Date(now.getTime() + 40 * 365 * DAY),
      new Date(now.getTime() - 2 * DAY),
    ]) {
      const v = cache.validate(target.chain, [anchor], later);
      expect(v.genuine).toBe(false);
      expect(v).toEqual(validateDeviceChain(target.chain, [anchor], later));
    }
    expect(cache.stats().dateRechecks).toBe(2);
    expect(calls.n).toBe(3);
    // Back within the dates: a hit again.
    expect(cache.validate(target.chain, [anchor], now).genuine).toBe(true);
    expect(calls.n).toBe(3);
  });

  it('keeps at most `capacity` chains, least recently used out first', () => {
    const { calls, validator } = counting();
    const cache = createChainCache({ validator, capacity: 2 });
    const [a, b, c] = [targetDevice(311), targetDevice(312), targetDevice(313)];
    const now = new Date();
    cache.validate(a.chain, [anchor], now);
    cache.validate(b.chain, [anchor], now);
    cache.validate(a.chain, [anchor], now); // a is now the most recent
    cache.validate(c.chain, [anchor], now); // evicts b
    expect(cache.stats().size).toBe(2);
    expect(calls.n).toBe(3);
    cache.validate(a.chain, [anchor], now);
    expect(calls.n).toBe(3);
    cache.validate(b.chain, [anchor], now);
    expect(calls.n).toBe(4);
    cache.clear();
    expect(cache.stats().size).toBe(0);
  });

  it('what a caller changes in a returned verdict does not reach the cache', () => {
    const cache = createChainCache();
    const now = new Date();
    const v = cache.validate(target.chain, [anchor], now);
    if (!v.genuine) throw new Error('not genuine');
    v.deviceIdBytes.fill(0x41);
    v.warnings.push('injected');
    const again = cache.validate(target.chain, [anchor], now);
    expect(again.genuine && new TextDecoder().decode(again.deviceIdBytes)).toBe(v.deviceId);
    expect(again.genuine && again.warnings).not.toContain('injected');
  });

  it('an invalid clock throws like validateDeviceChain', () => {
    expect(() => createChainCache().validate(target.chain, [anchor], new Date(NaN))).toThrow();
  });

  it('fuzz: any byte change of a cached chain gives exactly the uncached verdict', () => {
    const cache = createChainCache();
    const now = new Date();
    cache.validate(target.chain, [anchor], now);
    const ca = testCa();
    expect(ca.root.chr).toBe(anchor.cvc.body.chr);
    fc.assert(
      fc.property(
        fc.nat({ max: target.chain.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          const bytes = target.chain.slice();
          bytes[at]! ^= x;
          const v = cache.validate(bytes, [anchor], now);
          expect(v).toEqual(validateDeviceChain(bytes, [anchor], now));
        },
      ),
      { numRuns: 60 },
    );
    // The untouched chain is still a hit.
    const before = cache.stats().hits;
    expect(cache.validate(target.chain, [anchor], now).genuine).toBe(true);
    expect(cache.stats().hits).toBe(before + 1);
  });
});
