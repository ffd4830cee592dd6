import { createPublicKey, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import {
  CURVE_NAMES,
  bigintToBytes,
  bytesToBigint,
  curveByName,
  generateKeyPair,
  type CurveName,
} from '../../../../shared/crypto/curves';
import { OPENSSL_CURVE_NAME } from './openssl-curve-names';
import {
  derToPlain,
  hashBytes,
  plainToDer,
  signDigestPlain,
  signPlain,
  verifyDigestPlain,
  verifyPlain,
  type HashName,
} from '../../../../shared/crypto/ecdsa';

const NODE_NAME = OPENSSL_CURVE_NAME;

/** A Node key pair plus its raw uncompressed point (the SPKI ends with the point). */
function nodeKeyPair(name: CurveName) {
  const c = curveByName(name);
  const kp = generateKeyPairSync('ec', { namedCurve: NODE_NAME[name] });
  const spki = new Uint8Array(kp.publicKey.export({ type: 'spki', format: 'der' }));
  const point = spki.subarray(spki.length - (1 + 2 * c.fieldBytes));
  return { ...kp, spki, point };
}

describe('hashBytes', () => {
  it('matches known digests of "abc"', () => {
    const abc = asciiBytes('abc');
    expect(toHex(hashBytes('sha1', abc))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(toHex(hashBytes('sha256', abc))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(hashBytes('sha224', abc).length).toBe(28);
    expect(hashBytes('sha384', abc).length).toBe(48);
    expect(hashBytes('sha512', abc).length).toBe(64);
  });
});

describe('ECDSA plain r‖s', () => {
  const msg = asciiBytes('DENK0104938000001122334455667788');

  it.each(CURVE_NAMES)(
    '%s: our signatures verify in OpenSSL, and OpenSSL signatures verify here',
    (name) => {
      const c = curveByName(name);
      // ours → Node
      const ours = generateKeyPair(c);
      const sig = signPlain(c, ours.privateKey, msg, 'sha256');
      expect(sig.length).toBe(2 * c.orderBytes);
      const template = nodeKeyPair(name).spki;
      const spki = concatBytes(
        template.subarray(0, template.length - ours.publicKey.length),
        ours.publicKey,
      );
      const nodePub = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      const v = createVerify('sha256').update(msg);
      expect(v.verify({ key: nodePub, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
      // Node → ours
      const theirs = nodeKeyPair(name);
      const nodeSig = new Uint8Array(
        createSign('sha384')
          .update(msg)
          .sign({ key: theirs.privateKey, dsaEncoding: 'ieee-p1363' }),
      );
      expect(verifyPlain(c, theirs.point, msg, nodeSig, 'sha384')).toBe(true);
      expect(verifyPlain(c, theirs.point, msg, nodeSig, 'sha256')).toBe(false);
      // Node DER → plain conversion agrees with Node's own plain encoding
      const nodeDer = new Uint8Array(createSign('sha256').update(msg).sign(theirs.privateKey));
      const plain = derToPlain(nodeDer, c.orderBytes);
      expect(plain.ok).toBe(true);
      if (plain.ok) {
        expect(verifyPlain(c, theirs.point, msg, plain.value, 'sha256')).toBe(true);
        expect(toHex(plainToDer(plain.value))).toBe(toHex(nodeDer));
      }
    },
  );

  it('rejects tampered message, signature, key, and wrong lengths; never throws', () => {
    const c = curveByName('brainpoolP256r1');
    const { privateKey, publicKey } = generateKeyPair(c);
    const sig = signPlain(c, privateKey, msg, 'sha256');
    expect(verifyPlain(c, publicKey, msg, sig, 'sha256')).toBe(true);
    const badMsg = msg.slice();
    badMsg[0]! ^= 1;
    expect(verifyPlain(c, publicKey, badMsg, sig, 'sha256')).toBe(false);
    for (const i of [0, 31, 32, 63]) {
      const s = sig.slice();
      s[i]! ^= 0x80;
      expect(verifyPlain(c, publicKey, msg, s, 'sha256')).toBe(false);
    }
    expect(verifyPlain(c, generateKeyPair(c).publicKey, msg, sig, 'sha256')).toBe(false);
    expect(verifyPlain(c, publicKey, msg, sig.subarray(0, 63), 'sha256')).toBe(false);
    expect(verifyPlain(c, publicKey, msg, concatBytes(sig, fromHex('00')), 'sha256')).toBe(false);
    expect(verifyPlain(c, publicKey.subarray(1), msg, sig, 'sha256')).toBe(false);
    expect(verifyPlain(c, publicKey, msg, new Uint8Array(64), 'sha256')).toBe(false);
    expect(verifyPlain(c, publicKey, msg, new Uint8Array(64).fill(0xff), 'sha256')).toBe(false);
    expect(verifyDigestPlain(c, publicKey, new Uint8Array(0), sig)).toBe(false);
    expect(verifyPlain(c, publicKey, msg, sig, 'md5' as HashName)).toBe(false);
    expect(() => hashBytes('toString' as HashName, msg)).toThrow('unknown hash');
  });

  it('accepts high-S signatures (cards do not normalise s)', () => {
    const c = curveByName('secp256r1');
    const { privateKey, publicKey } = generateKeyPair(c);
    const sig = signPlain(c, privateKey, msg, 'sha256');
    const s = bytesToBigint(sig.subarray(32));
    const flipped = concatBytes(sig.subarray(0, 32), bigintToBytes(c.domain.n - s, 32));
    expect(verifyPlain(c, publicKey, msg, sig, 'sha256')).toBe(true);
    expect(verifyPlain(c, publicKey, msg, flipped, 'sha256')).toBe(true);
  });

  it('truncates a digest longer than the order and accepts a shorter one', () => {
    const c = curveByName('brainpoolP256r1');
    const { privateKey, publicKey } = generateKeyPair(c);
    const long = hashBytes('sha512', msg);
    const sig = signDigestPlain(c, privateKey, long);
    expect(verifyDigestPlain(c, publicKey, long, sig)).toBe(true);
    // Only the leftmost 256 bits count, as ECDSA prescribes.
    const sameLeft = concatBytes(long.subarray(0, 32), new Uint8Array(32));
    expect(verifyDigestPlain(c, publicKey, sameLeft, sig)).toBe(true);
    const short = hashBytes('sha1', msg);
    expect(verifyDigestPlain(c, publicKey, short, signDigestPlain(c, privateKey, short))).toBe(
      true,
    );
    expect(() => signDigestPlain(c, privateKey, new Uint8Array(0))).toThrow();
    expect(() => signDigestPlain(c, new Uint8Array(32), long)).toThrow();
  });
});

describe('DER ↔ plain', () => {
  it('pads short integers and strips the sign byte', () => {
    // r = 0x80 (needs a 00 sign byte), s = 0x01
    const der = fromHex('3007020200800201 01'.replace(/ /g, ''));
    const plain = derToPlain(der, 4);
    expect(plain).toEqual({ ok: true, value: fromHex('0000008000000001') });
    expect(toHex(plainToDer(fromHex('0000008000000001')))).toBe(toHex(der));
  });

  it('round-trips full-width values with leading zero bytes in plain form', () => {
    const plain = fromHex('00ff' + '11'.repeat(30) + '0000' + '7f'.repeat(30));
    const der = plainToDer(plain);
    expect(toHex(der)).toBe('3042' + '022000ff' + '11'.repeat(30) + '021e' + '7f'.repeat(30));
    expect(derToPlain(der, 32)).toEqual({ ok: true, value: plain });
  });

  it('uses a long-form SEQUENCE length for P-521-sized signatures', () => {
    const plain = new Uint8Array(132).fill(0xaa);
    const der = plainToDer(plain);
    expect(toHex(der.subarray(0, 3))).toBe('30818a'); // 2 × (02 43 00 ‖ 66 bytes) = 138;
    expect(derToPlain(der, 66)).toEqual({ ok: true, value: plain });
  });

  it.each([
    ['not a sequence', '3105020101020101'],
    ['negative r', '3006020180020101'],
    ['superfluous leading zero', '300702020001020101'],
    ['zero r', '3006020100020101'],
    ['empty integer', '30050200020101'],
    ['three integers', '3009020101020101020101'],
    ['one integer', '3003020101'],
    ['wrong inner tag', '3006040101020101'],
    ['trailing bytes', '300602010102010100'],
    ['truncated', '30060201010201'],
    ['non-minimal length', '308106020101020101'],
    ['too long for size', '3008020401020304020101'],
    ['empty', ''],
  ])('rejects %s', (_name, hex) => {
    const r = derToPlain(fromHex(hex), 3);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('malformed-der');
  });

  it('plainToDer refuses odd and empty input', () => {
    expect(() => plainToDer(new Uint8Array(0))).toThrow();
    expect(() => plainToDer(new Uint8Array(3))).toThrow();
  });

  it('property: plain → DER → plain is the identity for non-zero halves', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (r, s) => {
          fc.pre(r.some((b) => b !== 0) && s.some((b) => b !== 0));
          const plain = concatBytes(r, s);
          const back = derToPlain(plainToDer(plain), 32);
          return back.ok && toHex(back.value) === toHex(plain);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fuzz: derToPlain never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -2, max: 70 }), (b, size) => {
        const r = derToPlain(b, size);
        return r.ok ? r.value.length === 2 * size : r.error.code === 'malformed-der';
      }),
      { numRuns: 5000 },
    );
  });
});
