/**
 * A bounded cache of device-chain validations (docs/card-reference.md §5.3) so the ECDSA of an offer's target
 * chain runs once, not on arrival and again right before the card is touched. The key is the
 * exact EF 2F02 bytes plus the exact trust anchor set (order, source, label, certificate), so a
 * different chain or a changed anchor set is always a miss.
 *
 * Only the signature math is reused: a hit re-checks the validity dates of root, DICA and device
 * certificate against the current day; when any date fails, the full validation runs again and
 * its verdict is returned. Only genuine verdicts are stored — a failure is never cached, let
 * alone as a success. A hit returns exactly what `validateDeviceChain` would return for the same
 * input at the same time (see `storable`).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../shared/codec/bytes';
import { validateDeviceChain, type ChainVerdict, type TrustAnchor } from '../../shared/cvc/chain';
import type { Cvc } from '../../shared/cvc/cvc';
import { compareCvcDate, cvcDateFromDate } from '../../shared/cvc/date';

/** A genuine verdict. */
export type GenuineChain = Extract<ChainVerdict, { genuine: true }>;

/** The validation the cache wraps (the real one unless a test counts calls). */
export type ChainValidator = (
  ef2f02: Uint8Array,
  anchors: readonly TrustAnchor[],
  now: Date,
) => ChainVerdict;

/** Counters, for tests and the benchmark. */
export type ChainCacheStats = {
  readonly hits: number;
  readonly misses: number;
  /** Hits whose dates no longer held, so the full validation ran again. */
  readonly dateRechecks: number;
  readonly size: number;
};

/** The cache. `validate` has the contract of `validateDeviceChain`. */
export type ChainCache = {
  validate(ef2f02: Uint8Array, anchors: readonly TrustAnchor[], now: Date): ChainVerdict;
  stats(): ChainCacheStats;
  clear(): void;
};

/** Options of {@link createChainCache}. */
export type ChainCacheOptions = {
  /** Most entries kept (least recently used evicted first); default 64. */
  readonly capacity?: number;
  /** The underlying validation (default `validateDeviceChain`). */
  readonly validator?: ChainValidator;
};

/** Default number of chains remembered: far more targets than one custodian serves. */
export const DEFAULT_CHAIN_CACHE_CAPACITY = 64;

const enc = new TextEncoder();

/** Length-prefixed, so no two different inputs hash the same concatenation. */
function feed(h: ReturnType<typeof sha256.create>, bytes: Uint8Array): void {
  const n = bytes.length;
  h.update(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));
  h.update(bytes);
}

/** Cache key: SHA-256 over the chain and every anchor (certificate, source, label) in order. */
export function chainCacheKey(ef2f02: Uint8Array, anchors: readonly TrustAnchor[]): string {
  const h = sha256.create();
  feed(h, ef2f02);
  for (const a of anchors) {
    feed(h, a.cvc.encoded);
    feed(h, enc.encode(a.source));
    feed(h, enc.encode(a.label));
  }
  return toHex(h.digest());
}

/** True when `cvc` is within its validity dates on the UTC day of `now` (docs/card-reference.md §5.3). */
function inDate(cvc: Cvc, now: Date): boolean {
  const today = cvcDateFromDate(now);
  const { effective, expiration } = cvc.body;
  if (expiration && compareCvcDate(expiration, today) < 0) return false;
  if (effective && compareCvcDate(effective, today) > 0) return false;
  return true;
}

/**
 * Whether a genuine verdict may be reused: `validateDeviceChain` returns the first candidate
 * anchor (same CHR as the DICA's CAR) that validates, so a hit equals a fresh validation only
 * when the verdict's anchor is the first candidate (earlier candidates could become valid later).
 */
function storable(v: GenuineChain, anchors: readonly TrustAnchor[]): boolean {
  const first = anchors.find((a) => a.cvc.body.chr === v.chain.dica.body.car);
  return first === v.anchor;
}

/** A copy whose mutable parts the caller may change without touching the cache. */
function copy(v: GenuineChain): GenuineChain {
  return { ...v, deviceIdBytes: v.deviceIdBytes.slice(), warnings: [...v.warnings] };
}

/** Creates an LRU chain cache (see module doc). */
export function createChainCache(options: ChainCacheOptions = {}): ChainCache {
  const capacity = Math.max(1, Math.floor(options.capacity ?? DEFAULT_CHAIN_CACHE_CAPACITY));
  const validator = options.validator ?? validateDeviceChain;
  const entries = new Map<string, GenuineChain>();
  let hits = 0;
  let misses = 0;
  let dateRechecks = 0;

  return {
    validate(ef2f02, anchors, now) {
      // The same programming-error contract as validateDeviceChain: an invalid clock throws.
      if (Number.isNaN(now.getTime())) throw new Error('chain cache: invalid current time');
      const key = chainCacheKey(ef2f02, anchors);
      const cached = entries.get(key);
      if (cached) {
        // LRU: move to the most recent end.
        entries.delete(key);
        entries.set(key, cached);
        const { anchor, chain } = cached;
        if (inDate(anchor.cvc, now) && inDate(chain.dica, now) && inDate(chain.device, now)) {
          hits += 1;
          return copy(cached);
        }
        // A date no longer holds: the full validation names the failure exactly.
        dateRechecks += 1;
        return validator(ef2f02, anchors, now);
      }
      misses += 1;
      const verdict = validator(ef2f02, anchors, now);
      if (verdict.genuine && storable(verdict, anchors)) {
        entries.set(key, copy(verdict));
        while (entries.size > capacity) {
          const oldest = entries.keys().next();
          if (oldest.done) break;
          entries.delete(oldest.value);
        }
      }
      return verdict;
    },
    stats: () => ({ hits, misses, dateRechecks, size: entries.size }),
    clear: () => entries.clear(),
  };
}
