/**
 * Elliptic curves the SmartCard-HSM uses for CVCs, device keys and PKA custodian keys, with
 * their explicit domain parameters as carried in a CVC `7F49` (docs/card-reference.md §4.1, §4.3).
 * Arithmetic comes from @noble/curves; this module only names curves and maps domain
 * parameters to them.
 * @module
 */
import type { ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } from '@noble/curves/misc.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesEqual } from '../codec/bytes';
import { explicitCurve, type ExplicitCurveName } from './curve-params';

/**
 * Every curve OpenSC's SmartCard-HSM driver offers for the card (docs/card-reference.md §4.3):
 * NIST/SEC prime curves, secp192k1/secp256k1 and the brainpool r1 and t1 curves. Which of
 * them a role accepts (PKA custodian keys, signing keys) is decided by that role, not here.
 */
export type CurveName =
  | 'brainpoolP256r1'
  | 'brainpoolP384r1'
  | 'brainpoolP512r1'
  | 'secp256r1'
  | 'secp384r1'
  | 'secp521r1'
  | 'secp256k1'
  | ExplicitCurveName;

/** Explicit EC domain parameters as in a CVC public key (`81` p … `87` h, docs/card-reference.md §4.1). */
export type DomainParameters = {
  p: bigint;
  a: bigint;
  b: bigint;
  /** Generator, uncompressed `04 ‖ x ‖ y`. */
  g: Uint8Array;
  n: bigint;
  h: bigint;
};

/** A named curve with its sizes and domain parameters. */
export type Curve = {
  name: CurveName;
  /** Bytes of a field element (coordinate length in an uncompressed point). */
  fieldBytes: number;
  /** Bytes of the group order (length of r and of s in a plain signature). */
  orderBytes: number;
  domain: DomainParameters;
};

/** All curve names, in a stable order. */
export const CURVE_NAMES: readonly CurveName[] = [
  'brainpoolP256r1',
  'brainpoolP384r1',
  'brainpoolP512r1',
  'secp256r1',
  'secp384r1',
  'secp521r1',
  'secp256k1',
  'secp192r1',
  'secp192k1',
  'brainpoolP192r1',
  'brainpoolP224r1',
  'brainpoolP320r1',
  'brainpoolP192t1',
  'brainpoolP224t1',
  'brainpoolP256t1',
  'brainpoolP320t1',
  'brainpoolP384t1',
  'brainpoolP512t1',
];

const READY: Partial<Record<CurveName, ECDSA>> = {
  brainpoolP256r1,
  brainpoolP384r1,
  brainpoolP512r1,
  secp256r1: p256,
  secp384r1: p384,
  secp521r1: p521,
  secp256k1,
};

const IMPLS: Record<CurveName, ECDSA> = Object.fromEntries(
  CURVE_NAMES.map((name) => [name, READY[name] ?? explicitCurve(name as ExplicitCurveName)]),
) as Record<CurveName, ECDSA>;

const byteLength = (v: bigint): number => Math.ceil(v.toString(16).length / 2);

/** Big-endian unsigned encoding of `v` in exactly `len` bytes (v must fit). */
export function bigintToBytes(v: bigint, len: number): Uint8Array {
  if (v < 0n) throw new Error('negative integer');
  const out = new Uint8Array(len);
  let x = v;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (x !== 0n) throw new Error(`integer does not fit in ${len} bytes`);
  return out;
}

/** Big-endian unsigned integer of any length (empty → 0). */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

const CURVES: ReadonlyMap<CurveName, Curve> = new Map(
  CURVE_NAMES.map((name) => {
    const c = IMPLS[name].Point.CURVE();
    const fieldBytes = byteLength(c.p);
    const g = new Uint8Array(1 + 2 * fieldBytes);
    g[0] = 0x04;
    g.set(bigintToBytes(c.Gx, fieldBytes), 1);
    g.set(bigintToBytes(c.Gy, fieldBytes), 1 + fieldBytes);
    const curve: Curve = {
      name,
      fieldBytes,
      orderBytes: byteLength(c.n),
      domain: { p: c.p, a: c.a, b: c.b, g, n: c.n, h: c.h },
    };
    return [name, curve] as const;
  }),
);

/** The curve with this name. Throws on an unknown name (names are program constants). */
export function curveByName(name: CurveName): Curve {
  const c = CURVES.get(name);
  if (!c) throw new Error(`unknown curve ${String(name)}`);
  return c;
}

/** The curve whose domain parameters all equal `d`, or undefined (unsupported/unknown curve). */
export function curveByDomain(d: DomainParameters): Curve | undefined {
  for (const c of CURVES.values()) {
    const x = c.domain;
    if (
      x.p === d.p &&
      x.a === d.a &&
      x.b === d.b &&
      x.n === d.n &&
      x.h === d.h &&
      bytesEqual(x.g, d.g)
    ) {
      return c;
    }
  }
  return undefined;
}

/** The @noble ECDSA implementation of a curve (for the sibling ecdsa module). */
export function ecdsaImpl(curve: Curve): ECDSA {
  if (!Object.hasOwn(IMPLS, curve.name)) throw new Error(`unknown curve ${String(curve.name)}`);
  return IMPLS[curve.name];
}

/** Generates a key pair from the platform CSPRNG; the public key is uncompressed `04‖x‖y`. */
export function generateKeyPair(curve: Curve): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const impl = ecdsaImpl(curve);
  const privateKey = impl.utils.randomSecretKey();
  return { privateKey, publicKey: impl.getPublicKey(privateKey, false) };
}

/**
 * The uncompressed public point of a private scalar (big-endian, `orderBytes` long).
 * @throws Error when the private key is not a valid scalar for the curve
 */
export function publicKeyFromPrivate(curve: Curve, privateKey: Uint8Array): Uint8Array {
  return ecdsaImpl(curve).getPublicKey(privateKey, false);
}

/**
 * True when `point` is an uncompressed `04‖x‖y` encoding of a point on the curve other than
 * infinity (CVCs carry uncompressed points only, docs/card-reference.md §4.1). Never throws.
 */
export function isValidPublicPoint(curve: Curve, point: Uint8Array): boolean {
  if (point.length !== 1 + 2 * curve.fieldBytes || point[0] !== 0x04) return false;
  try {
    ecdsaImpl(curve).Point.fromBytes(point).assertValidity();
    return true;
  } catch {
    return false;
  }
}
