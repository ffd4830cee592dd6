import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../../shared/codec/bytes';
import {
  CURVE_NAMES,
  bigintToBytes,
  bytesToBigint,
  curveByDomain,
  curveByName,
  generateKeyPair,
  isValidPublicPoint,
  publicKeyFromPrivate,
} from '../../../../shared/crypto/curves';
import { OPENSSL_CURVE_NAME } from './openssl-curve-names';

const NODE_NAME = OPENSSL_CURVE_NAME;

describe('curves', () => {
  it('brainpoolP256r1 domain equals RFC 5639 (as in the SRCA 7F49, reference appendix A)', () => {
    const c = curveByName('brainpoolP256r1');
    expect(c.fieldBytes).toBe(32);
    expect(c.orderBytes).toBe(32);
    expect(c.domain.p.toString(16)).toBe(
      'a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377',
    );
    expect(c.domain.n.toString(16)).toBe(
      'a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7',
    );
    expect(toHex(c.domain.g)).toBe(
      '048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262' +
        '547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997',
    );
    expect(c.domain.h).toBe(1n);
  });

  it('sizes: P-521 uses 66-byte coordinates and order', () => {
    const c = curveByName('secp521r1');
    expect(c.fieldBytes).toBe(66);
    expect(c.orderBytes).toBe(66);
    expect(c.domain.g.length).toBe(133);
  });

  it('curveByDomain finds each curve and rejects any changed parameter', () => {
    for (const name of CURVE_NAMES) {
      const d = curveByName(name).domain;
      expect(curveByDomain({ ...d, g: d.g.slice() })?.name).toBe(name);
      expect(curveByDomain({ ...d, p: d.p + 2n })).toBeUndefined();
      expect(curveByDomain({ ...d, a: d.a ^ 1n })).toBeUndefined();
      expect(curveByDomain({ ...d, b: d.b ^ 1n })).toBeUndefined();
      expect(curveByDomain({ ...d, n: d.n - 2n })).toBeUndefined();
      expect(curveByDomain({ ...d, h: 2n })).toBeUndefined();
      const g = d.g.slice();
      g[g.length - 1]! ^= 1;
      expect(curveByDomain({ ...d, g })).toBeUndefined();
    }
  });

  it.each(CURVE_NAMES)('%s: public key derivation agrees with Node/OpenSSL', (name) => {
    const c = curveByName(name);
    const ecdh = createECDH(NODE_NAME[name]);
    ecdh.generateKeys();
    const priv = bigintToBytes(bytesToBigint(ecdh.getPrivateKey()), c.orderBytes);
    const pub = new Uint8Array(ecdh.getPublicKey());
    expect(toHex(publicKeyFromPrivate(c, priv))).toBe(toHex(pub));
    expect(isValidPublicPoint(c, pub)).toBe(true);
  });

  it.each(CURVE_NAMES)('%s: generated keys are valid and distinct', (name) => {
    const c = curveByName(name);
    const a = generateKeyPair(c);
    const b = generateKeyPair(c);
    expect(a.privateKey.length).toBe(c.orderBytes);
    expect(a.publicKey.length).toBe(1 + 2 * c.fieldBytes);
    expect(toHex(publicKeyFromPrivate(c, a.privateKey))).toBe(toHex(a.publicKey));
    expect(toHex(a.privateKey)).not.toBe(toHex(b.privateKey));
  });

  it('isValidPublicPoint rejects off-curve, compressed, wrong-length and empty input', () => {
    const c = curveByName('brainpoolP256r1');
    const { publicKey } = generateKeyPair(c);
    const off = publicKey.slice();
    off[64]! ^= 1;
    expect(isValidPublicPoint(c, off)).toBe(false);
    const compressed = Uint8Array.of(0x02 | (publicKey[64]! & 1), ...publicKey.subarray(1, 33));
    expect(isValidPublicPoint(c, compressed)).toBe(false);
    expect(isValidPublicPoint(c, publicKey.subarray(0, 64))).toBe(false);
    expect(isValidPublicPoint(c, new Uint8Array(0))).toBe(false);
    expect(isValidPublicPoint(c, fromHex('00'))).toBe(false);
    // A valid P-256 point is not a brainpool point.
    expect(isValidPublicPoint(c, generateKeyPair(curveByName('secp256r1')).publicKey)).toBe(false);
  });

  it('bigint helpers round-trip and refuse overflow', () => {
    expect(toHex(bigintToBytes(0x0102n, 4))).toBe('00000102');
    expect(bytesToBigint(fromHex('00000102'))).toBe(0x102n);
    expect(() => bigintToBytes(0x10000n, 2)).toThrow();
  });
});
