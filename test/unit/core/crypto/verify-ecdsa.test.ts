/**
 * The OpenSSL verifier (core/crypto/verify-ecdsa.ts) against the shared @noble one
 * (shared/crypto/ecdsa.ts): on every curve, both give the same verdict for valid signatures,
 * high-S twins, tampered, malformed and wrong-length signatures, out-of-range r and s, wrong
 * messages and hashes, and invalid or off-curve public points (issue 12 §2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyPlainNode } from '../../../../core/crypto/verify-ecdsa';
import { concatBytes } from '../../../../shared/codec/bytes';
import {
  bigintToBytes,
  bytesToBigint,
  CURVE_NAMES,
  curveByName,
  generateKeyPair,
  type Curve,
} from '../../../../shared/crypto/curves';
import { signPlain, verifyPlain, type HashName } from '../../../../shared/crypto/ecdsa';

const HASHES: HashName[] = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

type Keyed = { curve: Curve; publicKey: Uint8Array; privateKey: Uint8Array };
const keys = new Map<string, Keyed>();
function keyed(name: (typeof CURVE_NAMES)[number]): Keyed {
  let k = keys.get(name);
  if (!k) {
    const curve = curveByName(name);
    k = { curve, ...generateKeyPair(curve) };
    keys.set(name, k);
  }
  return k;
}

/** Both verdicts; the test asserts they agree and, where known, what they are. */
function both(k: Keyed, point: Uint8Array, msg: Uint8Array, sig: Uint8Array, hash: HashName) {
  const noble = verifyPlain(k.curve, point, msg, sig, hash);
  const node = verifyPlainNode(k.curve, point, msg, sig, hash);
  expect(node, `${k.curve.name} ${hash}`).toBe(noble);
  return node;
}

/** How a signature, point or message is spoiled. */
const spoil = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), by: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('extend' as const), by: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('zero-r' as const) }),
  fc.record({ kind: fc.constant('zero-s' as const) }),
  fc.record({ kind: fc.constant('r-is-n' as const) }),
  fc.record({ kind: fc.constant('s-plus-n' as const) }),
  fc.record({ kind: fc.constant('random' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('point-flip' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('point-prefix' as const), prefix: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('point-short' as const) }),
  fc.record({ kind: fc.constant('other-message' as const) }),
  fc.record({ kind: fc.constant('other-hash' as const) }),
);

describe('server ECDSA verifier (node:crypto) agrees with @noble', () => {
  for (const name of CURVE_NAMES) {
    it(`${name}: valid, high-S, tampered, malformed and off-curve inputs`, () => {
      const k = keyed(name);
      const n = k.curve.domain.n;
      const size = k.curve.orderBytes;
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 80 }),
          fc.constantFrom(...HASHES),
          spoil,
          (msg, hash, how) => {
            const sig = signPlain(k.curve, k.privateKey, msg, hash);
            expect(both(k, k.publicKey, msg, sig, hash)).toBe(true);
            // Cards do not normalise s: the high-S twin is accepted by both.
            const s = bytesToBigint(sig.subarray(size));
            const twin = concatBytes(sig.subarray(0, size), bigintToBytes(n - s, size));
            expect(both(k, k.publicKey, msg, twin, hash)).toBe(true);
            const r = sig.subarray(0, size);
            const sb = sig.subarray(size);
            let bad: Uint8Array = sig;
            let point: Uint8Array = k.publicKey;
            let message: Uint8Array = msg;
            let h = hash;
            switch (how.kind) {
              case 'flip':
                bad = sig.slice();
                bad[how.at % bad.length]! ^= 1 << how.bit;
                break;
              case 'truncate':
                bad = sig.subarray(0, sig.length - how.by);
                break;
              case 'extend':
                bad = concatBytes(sig, new Uint8Array(how.by));
                break;
              case 'zero-r':
                bad = concatBytes(new Uint8Array(size), sb);
                break;
              case 'zero-s':
                bad = concatBytes(r, new Uint8Array(size));
                break;
              case 'r-is-n':
                bad = concatBytes(bigintToBytes(n, size), sb);
                break;
              case 's-plus-n': {
                const big = s + n;
                // Only representable when it still fits in `size` bytes.
                if (big >= 1n << BigInt(8 * size)) return;
                bad = concatBytes(r, bigintToBytes(big, size));
                break;
              }
              case 'random': {
                const rng = fc.sample(fc.uint8Array({ minLength: 2 * size, maxLength: 2 * size }), {
                  numRuns: 1,
                  seed: how.seed,
                });
                bad = rng[0]!;
                break;
              }
              case 'point-flip':
                point = k.publicKey.slice();
                point[1 + (how.at % (point.length - 1))]! ^= 0x01;
                break;
              case 'point-prefix':
                point = k.publicKey.slice();
                if (how.prefix === 4) return;
                point[0] = how.prefix;
                break;
              case 'point-short':
                point = k.publicKey.subarray(0, k.publicKey.length - 1);
                break;
              case 'other-message':
                message = concatBytes(msg, Uint8Array.of(0));
                break;
              case 'other-hash':
                h = HASHES[(HASHES.indexOf(hash) + 1) % HASHES.length]!;
                break;
            }
            const verdict = both(k, point, message, bad, h);
            if (how.kind !== 'random' && how.kind !== 'flip') expect(verdict).toBe(false);
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  it('the point at infinity, an empty key and an unknown hash are refused without throwing', () => {
    const k = keyed('brainpoolP256r1');
    const sig = signPlain(k.curve, k.privateKey, Uint8Array.of(1), 'sha256');
    expect(both(k, Uint8Array.of(0), Uint8Array.of(1), sig, 'sha256')).toBe(false);
    expect(both(k, new Uint8Array(0), Uint8Array.of(1), sig, 'sha256')).toBe(false);
    expect(both(k, new Uint8Array(65), Uint8Array.of(1), sig, 'sha256')).toBe(false);
    const hash = 'md5' as HashName;
    expect(verifyPlainNode(k.curve, k.publicKey, Uint8Array.of(1), sig, hash)).toBe(false);
    expect(verifyPlain(k.curve, k.publicKey, Uint8Array.of(1), sig, hash)).toBe(false);
  });
});
