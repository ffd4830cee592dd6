/**
 * Object identifiers used in SmartCard-HSM CVCs and PKA files (docs/card-reference.md §4.3), as DER value
 * bytes (no `06` tag or length), plus dotted-string conversion.
 * @module
 */
import { bytesEqual, toHex } from '../codec/bytes';
import type { HashName } from '../crypto/ecdsa';

/** BSI TR-03110 terminal-authentication prefix 0.4.0.127.0.7.2.2.2 (docs/card-reference.md §4.3). */
const TA = [0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02] as const;
/** CardContact arc 1.3.6.1.4.1.24991. */
const CC = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xc3, 0x1f] as const;

/** id-TA-RSA-v1-5-SHA-1 (0.4.0.127.0.7.2.2.2.1.1). */
export const ID_TA_RSA_V1_5_SHA_1 = Uint8Array.of(...TA, 0x01, 0x01);
/** id-TA-RSA-v1-5-SHA-256 (…2.1.2). */
export const ID_TA_RSA_V1_5_SHA_256 = Uint8Array.of(...TA, 0x01, 0x02);
/** id-TA-RSA-PSS-SHA-1 (…2.1.3). */
export const ID_TA_RSA_PSS_SHA_1 = Uint8Array.of(...TA, 0x01, 0x03);
/** id-TA-RSA-PSS-SHA-256 (…2.1.4). */
export const ID_TA_RSA_PSS_SHA_256 = Uint8Array.of(...TA, 0x01, 0x04);
/** id-TA-RSA-v1-5-SHA-512 (…2.1.5). */
export const ID_TA_RSA_V1_5_SHA_512 = Uint8Array.of(...TA, 0x01, 0x05);
/** id-TA-RSA-PSS-SHA-512 (…2.1.6). */
export const ID_TA_RSA_PSS_SHA_512 = Uint8Array.of(...TA, 0x01, 0x06);

/** id-TA-ECDSA-SHA-1 (0.4.0.127.0.7.2.2.2.2.1). */
export const ID_TA_ECDSA_SHA_1 = Uint8Array.of(...TA, 0x02, 0x01);
/** id-TA-ECDSA-SHA-224 (…2.2.2). */
export const ID_TA_ECDSA_SHA_224 = Uint8Array.of(...TA, 0x02, 0x02);
/** id-TA-ECDSA-SHA-256 (…2.2.3), the algorithm of every SmartCard-HSM CVC (docs/card-reference.md §4.2). */
export const ID_TA_ECDSA_SHA_256 = Uint8Array.of(...TA, 0x02, 0x03);
/** id-TA-ECDSA-SHA-384 (…2.2.4). */
export const ID_TA_ECDSA_SHA_384 = Uint8Array.of(...TA, 0x02, 0x04);
/** id-TA-ECDSA-SHA-512 (…2.2.5). */
export const ID_TA_ECDSA_SHA_512 = Uint8Array.of(...TA, 0x02, 0x05);

/** CardContact role "SmartCard-HSM" 1.3.6.1.4.1.24991.3.1.1 (CHAT of the SRCAs, docs/card-reference.md §4.1). */
export const OID_CC_ROLE_SC_HSM = Uint8Array.of(...CC, 0x03, 0x01, 0x01);
/** PKA file format 1.3.6.1.4.1.24991.4.3.1, as OpenSC expects it (docs/card-reference.md §6.2). */
export const OID_CC_PKA_FILE_FORMAT = Uint8Array.of(...CC, 0x04, 0x03, 0x01);

const ECDSA_HASH: readonly (readonly [Uint8Array, HashName])[] = [
  [ID_TA_ECDSA_SHA_1, 'sha1'],
  [ID_TA_ECDSA_SHA_224, 'sha224'],
  [ID_TA_ECDSA_SHA_256, 'sha256'],
  [ID_TA_ECDSA_SHA_384, 'sha384'],
  [ID_TA_ECDSA_SHA_512, 'sha512'],
];

const RSA_HASH: readonly (readonly [Uint8Array, HashName])[] = [
  [ID_TA_RSA_V1_5_SHA_1, 'sha1'],
  [ID_TA_RSA_V1_5_SHA_256, 'sha256'],
  [ID_TA_RSA_PSS_SHA_1, 'sha1'],
  [ID_TA_RSA_PSS_SHA_256, 'sha256'],
  [ID_TA_RSA_V1_5_SHA_512, 'sha512'],
  [ID_TA_RSA_PSS_SHA_512, 'sha512'],
];

/** True for one of the id-TA-ECDSA-SHA-* OIDs. */
export function isEcdsaAlgorithmOid(oid: Uint8Array): boolean {
  return ECDSA_HASH.some(([o]) => bytesEqual(o, oid));
}

/** True for one of the id-TA-RSA-* OIDs. */
export function isRsaAlgorithmOid(oid: Uint8Array): boolean {
  return RSA_HASH.some(([o]) => bytesEqual(o, oid));
}

/** The hash named by an id-TA algorithm OID (ECDSA or RSA), or undefined for any other OID. */
export function hashForAlgorithmOid(oid: Uint8Array): HashName | undefined {
  return [...ECDSA_HASH, ...RSA_HASH].find(([o]) => bytesEqual(o, oid))?.[1];
}

/** The arcs of DER OID value bytes, or undefined when malformed (empty, truncated, non-minimal). */
function oidArcs(bytes: Uint8Array): bigint[] | undefined {
  if (bytes.length === 0) return undefined;
  const raw: bigint[] = [];
  let v = 0n;
  let started = false;
  for (const b of bytes) {
    if (!started && b === 0x80) return undefined; // non-minimal sub-identifier (X.690 §8.19.2)
    started = true;
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      raw.push(v);
      v = 0n;
      started = false;
    }
  }
  if (started) return undefined;
  const first = raw[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...raw.slice(1)];
}

/**
 * Dotted form of DER OID value bytes (`2B 06 01` → `1.3.6.1`). Never throws: malformed bytes
 * give `?` followed by their hex, so the result is safe to display but matches no real OID.
 */
export function oidToString(bytes: Uint8Array): string {
  const arcs = oidArcs(bytes);
  return arcs ? arcs.join('.') : `?${toHex(bytes)}`;
}

/**
 * DER value bytes of a dotted OID (`1.3.6.1` → `2B 06 01`).
 * @throws Error when the string is not a valid OID (meant for constants and configuration)
 */
export function oidFromString(s: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(s)) throw new Error(`invalid OID "${s}"`);
  const arcs = s.split('.').map((a) => BigInt(a));
  const [a0, a1] = [arcs[0]!, arcs[1]!];
  if (a0 < 2n && a1 >= 40n) throw new Error(`invalid OID "${s}": second arc must be < 40`);
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...arcs.slice(2)]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return Uint8Array.from(out);
}
