/**
 * Issue 8 §1: RSA on the emulated card as the SmartCard-HSM does it (docs/card-reference.md §7.1,
 * §8.3, §15.6): GENERATE ASYMMETRIC KEY PAIR with the RSA template, the attested request, SIGN
 * with every RSA algorithm id checked by node:crypto (an independent implementation), the status
 * words for wrong lengths, key types and algorithms, the `91` list, the use counter, and the
 * state file. Before issue 8 every RSA template was refused with 6A81.
 */
import {
  constants,
  createHash,
  createPublicKey,
  publicDecrypt,
  verify,
  type KeyObject,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes, fromHex } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { parseAuthenticatedRequest, parseCvc } from '../../../shared/cvc/cvc';
import { ID_TA_RSA_PSS_SHA_256, ID_TA_RSA_V1_5_SHA_256 } from '../../../shared/cvc/oids';
import { keyOf, verifyOuterSignature } from '../../../shared/cvc/verify';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { stateFromJson, stateToJson } from '../../../emulator/card/state-file';
import { deviceChain, generateKey, initAndLogin, newCard, testCa, type Harness } from './helpers';

/** The RSA key-generation template of §7.1: `7F49 { 06 OID, 82 e, 02 bits }`. */
function rsaTemplate(
  chr: string,
  bits: number,
  opts: { e?: Uint8Array | null; oid?: Uint8Array; extra?: Uint8Array[] } = {},
): Uint8Array {
  const pk = [encodeTlv(0x06, opts.oid ?? ID_TA_RSA_V1_5_SHA_256)];
  if (opts.e !== null) pk.push(encodeTlv(0x82, opts.e ?? Uint8Array.of(1, 0, 1)));
  pk.push(encodeTlv(0x02, Uint8Array.of(bits >> 8, bits & 0xff)));
  return concatBytes(
    encodeTlv(0x5f29, Uint8Array.of(0)),
    encodeTlv(0x42, asciiBytes('UTCA00001')),
    encodeTlv(0x7f49, ...pk),
    encodeTlv(0x5f20, asciiBytes(chr)),
    ...(opts.extra ?? []),
  );
}

/** Generates RSA key `kid` and returns its SPKI public key (from the request) and the request. */
function genRsa(
  h: Harness,
  kid: number,
  bits: number,
  opts: Parameters<typeof rsaTemplate>[2] = {},
) {
  const request = h.expectSw(
    0x9000,
    0x00,
    0x46,
    kid,
    0x00,
    rsaTemplate(`UTRSA${kid}0001`, bits, opts),
    65536,
  );
  const req = parseAuthenticatedRequest(request);
  if (!req.ok) throw new Error(req.error.message);
  const { modulus, exponent } = req.value.inner.body.publicKey;
  const pub = createPublicKey({
    key: {
      kty: 'RSA',
      n: Buffer.from(modulus!).toString('base64url'),
      e: Buffer.from(exponent!).toString('base64url'),
    },
    format: 'jwk',
  });
  return { request, req: req.value, pub };
}

const msg = asciiBytes('issue 8: sign with the tools people already use');
const DIGEST_INFO_SHA256 = fromHex('3031300d060960864801650304020105000420');
const pss = (key: KeyObject, saltLength: number) => ({
  key,
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength,
});
const pkcs1 = (key: KeyObject) => ({ key, padding: constants.RSA_PKCS1_PADDING });

describe('RSA key generation', () => {
  const h = newCard();
  initAndLogin(h);

  it('2048: attested request (also stored in CE01) with modulus, exponent, a valid self-signature and the device signature', () => {
    const { request, req, pub } = genRsa(h, 1, 2048);
    expect(h.state.files.get(0xce01)).toEqual(request);
    expect(req.inner.body.publicKey.modulus!.length).toBe(256);
    expect(req.inner.body.publicKey.exponent).toEqual(Uint8Array.of(1, 0, 1));
    expect(req.inner.body.publicKey.domain).toBeUndefined();
    // Inner: id-TA-RSA-v1-5-SHA-256 over the 7F4E TLV, checked by node:crypto.
    expect(verify('sha256', req.inner.bodyTlv, pkcs1(pub), req.inner.signature)).toBe(true);
    // Outer: the device key from EF 2F02, over 7F21 ‖ 42 (docs/card-reference.md §4.2).
    const dev = parseCvc(deviceChain(h).device);
    const root = parseCvc(testCa().root.cvc);
    if (!dev.ok || !root.ok) throw new Error('chain');
    const rootKey = keyOf(root.value);
    if (!rootKey.ok) throw new Error('root key');
    const devKey = keyOf(dev.value, rootKey.value.curve.domain);
    expect(devKey.ok && verifyOuterSignature(req, devKey.value)).toBe(true);
  });

  it('a PSS OID makes a PSS self-signature; exponent 3 is honoured', () => {
    const { req, pub } = genRsa(h, 2, 1024, { oid: ID_TA_RSA_PSS_SHA_256, e: Uint8Array.of(3) });
    expect(req.inner.body.publicKey.exponent).toEqual(Uint8Array.of(3));
    expect(verify('sha256', req.inner.bodyTlv, pss(pub, 32), req.inner.signature)).toBe(true);
  });

  it.each([3072, 4096])(
    '%i bits: the real generation path',
    (bits) => {
      const { req, pub } = genRsa(h, bits === 3072 ? 3 : 4, bits);
      expect(req.inner.body.publicKey.modulus!.length * 8).toBe(bits);
      const sig = h.expectSw(0x9000, 0x80, 0x68, bits === 3072 ? 3 : 4, 0x33, msg, 65536);
      expect(sig.length * 8).toBe(bits);
      expect(verify('sha256', msg, pkcs1(pub), sig)).toBe(true);
    },
    120_000,
  );

  it('refuses sizes the card does not offer, bad exponents and templates without 82 or 02 (6A80)', () => {
    for (const bits of [512, 1000, 2047, 2049, 8192]) {
      h.expectSw(0x6a80, 0x00, 0x46, 0x10, 0x00, rsaTemplate('UTRSABAD00001', bits), 65536);
    }
    for (const e of [Uint8Array.of(2), Uint8Array.of(1), Uint8Array.of(1, 0, 0, 0, 1)]) {
      h.expectSw(0x6a80, 0x00, 0x46, 0x10, 0x00, rsaTemplate('UTRSABAD00001', 2048, { e }), 65536);
    }
    h.expectSw(
      0x6a80,
      0x00,
      0x46,
      0x10,
      0x00,
      rsaTemplate('UTRSABAD00001', 2048, { e: null }),
      65536,
    );
    expect(h.state.keys.has(0x10)).toBe(false);
  });
});

describe('RSA SIGN', () => {
  const h = newCard();
  initAndLogin(h);
  const { pub } = genRsa(h, 1, 2048);
  const k = 256;

  it('20 raw: the private operation on exactly k bytes', () => {
    const block = new Uint8Array(k);
    block.set(createHash('sha256').update(msg).digest(), k - 32);
    block[0] = 0x00;
    block[1] = 0x01;
    const sig = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x20, block, 65536);
    const back = publicDecrypt({ key: pub, padding: constants.RSA_NO_PADDING }, sig);
    expect(new Uint8Array(back)).toEqual(block);
  });

  it('30: PKCS#1 v1.5 over a DigestInfo given by the caller', () => {
    const di = concatBytes(DIGEST_INFO_SHA256, createHash('sha256').update(msg).digest());
    const sig = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x30, di, 65536);
    expect(verify('sha256', msg, pkcs1(pub), sig)).toBe(true);
    expect(verify('sha256', asciiBytes('other'), pkcs1(pub), sig)).toBe(false);
  });

  it.each([
    [0x31, 'sha1'],
    [0x32, 'sha224'],
    [0x33, 'sha256'],
    [0x34, 'sha384'],
    [0x35, 'sha512'],
  ] as const)('%i: PKCS#1 v1.5, the card hashes with %s', (algo, hash) => {
    const sig = h.expectSw(0x9000, 0x80, 0x68, 0x01, algo, msg, 65536);
    expect(sig.length).toBe(k);
    expect(verify(hash, msg, pkcs1(pub), sig)).toBe(true);
  });

  it.each([
    [0x41, 'sha1', 20],
    [0x42, 'sha224', 28],
    [0x43, 'sha256', 32],
    [0x44, 'sha384', 48],
    [0x45, 'sha512', 64],
  ] as const)('%i: PSS, the card hashes with %s, salt = hash length', (algo, hash, hLen) => {
    const sig = h.expectSw(0x9000, 0x80, 0x68, 0x01, algo, msg, 65536);
    expect(verify(hash, msg, pss(pub, hLen), sig)).toBe(true);
  });

  it.each([
    ['sha1', 20],
    ['sha256', 32],
    ['sha384', 48],
    ['sha512', 64],
  ] as const)('40: PSS over a supplied %s hash (named by its length)', (hash, hLen) => {
    const digest = createHash(hash).update(msg).digest();
    const a = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x40, digest, 65536);
    const b = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x40, digest, 65536);
    expect(a).not.toEqual(b); // fresh salt each time
    expect(verify(hash, msg, pss(pub, hLen), a)).toBe(true);
    expect(verify(hash, msg, pss(pub, hLen), b)).toBe(true);
  });

  it('40 also takes the hash as a DigestInfo (what OpenSC sends)', () => {
    const di = concatBytes(DIGEST_INFO_SHA256, createHash('sha256').update(msg).digest());
    const sig = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x40, di, 65536);
    expect(verify('sha256', msg, pss(pub, 32), sig)).toBe(true);
    // A DigestInfo whose length does not match its hash is no DigestInfo.
    h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x40, di.subarray(0, di.length - 1), 65536);
  });

  it('wrong lengths are 6A80: raw not k bytes or not below n, 30 beyond k − 11, 40 of no hash length', () => {
    h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x20, new Uint8Array(k - 1), 65536);
    h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x20, new Uint8Array(k + 1), 65536);
    h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x20, new Uint8Array(k).fill(0xff), 65536);
    h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x30, new Uint8Array(k - 10), 65536);
    h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x30, new Uint8Array(0), 65536);
    for (const n of [0, 19, 33, 65])
      h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x40, new Uint8Array(n), 65536);
    h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x30, new Uint8Array(k - 11).fill(1), 65536);
  });

  it('key type and algorithm: ECDSA ids on RSA keys, RSA ids on EC keys and unknown ids are 6A81', () => {
    generateKey(h, 2, 'UTECKEY000001');
    for (const algo of [0x70, 0x73, 0x21, 0x36, 0x46, 0x00, 0xff]) {
      h.expectSw(0x6a81, 0x80, 0x68, 0x01, algo, msg, 65536);
    }
    for (const algo of [0x20, 0x30, 0x33, 0x40, 0x43]) {
      h.expectSw(0x6a81, 0x80, 0x68, 0x02, algo, msg, 65536);
    }
  });

  it('honours the 91 list (6A81) and the 90 use counter (6984), also across the state file', () => {
    genRsa(h, 3, 1024, {
      extra: [encodeTlv(0x90, Uint8Array.of(0, 0, 0, 2)), encodeTlv(0x91, Uint8Array.of(0x33))],
    });
    h.expectSw(0x6a81, 0x80, 0x68, 0x03, 0x30, new Uint8Array(51), 65536);
    h.expectSw(0x9000, 0x80, 0x68, 0x03, 0x33, msg, 65536);
    const restored = new EmulatedSmartCardHsm(stateFromJson(stateToJson(h.state)));
    expect(restored.state.keys.get(3)).toEqual(h.state.keys.get(3));
    expect(restored.state.keys.get(1)).toEqual(h.state.keys.get(1));
    h.expectSw(0x9000, 0x80, 0x68, 0x03, 0x33, msg, 65536);
    h.expectSw(0x6984, 0x80, 0x68, 0x03, 0x33, msg, 65536);
    expect(h.state.keys.get(3)!.useCounter).toBe(0);
  });

  it('needs the user authenticated (6982)', () => {
    h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, fromHex('E82B0601040181C31F0201'));
    h.expectSw(0x6982, 0x80, 0x68, 0x01, 0x33, msg, 65536);
    h.expectSw(0x6982, 0x00, 0x46, 0x05, 0x00, rsaTemplate('UTRSA50000001', 2048), 65536);
  });
});
