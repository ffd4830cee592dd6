/**
 * The CVC public-key object `7F49` (docs/card-reference.md §4.1): `06` algorithm OID, then for EC `81` p,
 * `82` a, `83` b, `84` G, `85` n, `86` public point, `87` cofactor; for RSA `81` modulus,
 * `82` exponent (key-generation templates carry `02` key size instead of a modulus, §7.1).
 * Re-exported by `cvc.ts`; the types live here to keep both files small.
 * @module
 */
import { decodeTlvList, type Tlv, type TlvOptions } from '../codec/tlv';
import { bytesToBigint, type DomainParameters } from '../crypto/curves';
import { err, ok, type Result } from '../result';
import { isEcdsaAlgorithmOid, isRsaAlgorithmOid, oidToString } from './oids';

/** A parsed `7F49`. EC keys have `domain` (when explicit) and/or `point`; RSA keys `modulus`/`exponent`. */
export type CvcPublicKey = {
  oid: Uint8Array;
  domain?: DomainParameters;
  point?: Uint8Array;
  modulus?: Uint8Array;
  exponent?: Uint8Array;
  /** RSA key size in bits from a key-generation template (`02`, docs/card-reference.md §7.1). */
  keySize?: number;
};

/** Why a CVC (or part of one) could not be parsed. */
export type CvcError = { code: 'tlv' | 'structure' | 'unsupported'; message: string };

const fail = (code: CvcError['code'], message: string): Result<never, CvcError> =>
  err({ code, message });

/** Children of a constructed value with tags in `order` (each optional, at most once, in order). */
export function orderedChildren(
  value: Uint8Array,
  order: readonly number[],
  what: string,
  options: TlvOptions = {},
): Result<Map<number, Tlv>, CvcError> {
  const list = decodeTlvList(value, options);
  if (!list.ok) return fail('tlv', `${what}: ${list.error.message}`);
  const out = new Map<number, Tlv>();
  let pos = 0;
  for (const t of list.value) {
    const idx = order.indexOf(t.tag, pos);
    if (idx < 0) {
      const name = t.tag.toString(16).toUpperCase();
      return fail(
        'structure',
        order.includes(t.tag)
          ? `${what}: tag ${name} repeated or out of order`
          : `${what}: unexpected tag ${name}`,
      );
    }
    out.set(t.tag, t);
    pos = idx + 1;
  }
  return ok(out);
}

const EC_ORDER = [0x06, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87] as const;
const RSA_ORDER = [0x06, 0x81, 0x82, 0x02] as const;

/**
 * Parses the value of a `7F49` public-key object (from a certificate or a key-gen template).
 * Strict DER unless `options` relax it (a card reading a key-generation command, never a
 * certificate it verifies).
 */
export function parsePublicKey(
  value7F49: Uint8Array,
  options: TlvOptions = {},
): Result<CvcPublicKey, CvcError> {
  const first = decodeTlvList(value7F49, options);
  if (!first.ok) return fail('tlv', `public key: ${first.error.message}`);
  const oidTlv = first.value[0];
  if (!oidTlv || oidTlv.tag !== 0x06)
    return fail('structure', 'public key: algorithm OID (06) must come first');
  const oid = oidTlv.value.slice();
  if (isEcdsaAlgorithmOid(oid)) return parseEc(value7F49, oid, options);
  if (isRsaAlgorithmOid(oid)) return parseRsa(value7F49, oid, options);
  return fail('unsupported', `public key: unsupported algorithm ${oidToString(oid)}`);
}

function parseEc(
  value: Uint8Array,
  oid: Uint8Array,
  options: TlvOptions,
): Result<CvcPublicKey, CvcError> {
  const m = orderedChildren(value, EC_ORDER, 'EC public key', options);
  if (!m.ok) return m;
  const get = (tag: number): Uint8Array | undefined => m.value.get(tag)?.value.slice();
  const key: CvcPublicKey = { oid };
  const parts = [0x81, 0x82, 0x83, 0x84, 0x85].map(get);
  const present = parts.filter((p) => p !== undefined).length;
  if (present !== 0 && present !== 5) {
    return fail(
      'structure',
      'EC public key: domain parameters 81–85 must be all present or all absent',
    );
  }
  const cofactor = get(0x87);
  if (present === 0 && cofactor)
    return fail('structure', 'EC public key: cofactor without domain parameters');
  if (present === 5) {
    const [p, a, b, g, n] = parts as Uint8Array[];
    if ([p, a, b, n, cofactor].some((x) => x !== undefined && x.length === 0)) {
      return fail('structure', 'EC public key: empty domain parameter');
    }
    if (g!.length === 0 || g![0] !== 0x04) {
      return fail('unsupported', 'EC public key: generator must be uncompressed (04‖x‖y)');
    }
    // TR-03110 makes the cofactor conditional; absent means 1.
    const h = cofactor ? bytesToBigint(cofactor) : 1n;
    key.domain = {
      p: bytesToBigint(p!),
      a: bytesToBigint(a!),
      b: bytesToBigint(b!),
      g: g!,
      n: bytesToBigint(n!),
      h,
    };
  }
  const point = get(0x86);
  if (point) {
    if (point.length === 0 || point[0] !== 0x04) {
      return fail('unsupported', 'EC public key: point must be uncompressed (04‖x‖y)');
    }
    key.point = point;
  }
  return ok(key);
}

function parseRsa(
  value: Uint8Array,
  oid: Uint8Array,
  options: TlvOptions,
): Result<CvcPublicKey, CvcError> {
  const m = orderedChildren(value, RSA_ORDER, 'RSA public key', options);
  if (!m.ok) return m;
  const key: CvcPublicKey = { oid };
  const modulus = m.value.get(0x81)?.value;
  const exponent = m.value.get(0x82)?.value;
  const size = m.value.get(0x02)?.value;
  if (modulus) key.modulus = modulus.slice();
  if (exponent) key.exponent = exponent.slice();
  if (size) {
    if (size.length === 0 || size.length > 2)
      return fail('structure', 'RSA public key: key size must be 1–2 bytes');
    key.keySize = Number(bytesToBigint(size));
  }
  return ok(key);
}
