import { describe, expect, it } from 'vitest';
import { asciiBytes, bytesEqual, concatBytes } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { curveByName } from '../../../shared/crypto/curves';
import { derToPlain, verifyPlain } from '../../../shared/crypto/ecdsa';
import { parseAuthenticatedRequest, parseCvc } from '../../../shared/cvc/cvc';
import {
  keyOf,
  verifyCvc,
  verifyOuterSignature,
  verifySelfSigned,
} from '../../../shared/cvc/verify';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import { deviceChain, ecTemplate, generateKey, initAndLogin, newCard, testCa } from './helpers';

const OFF0 = Uint8Array.of(0x54, 0x02, 0x00, 0x00);
const write = (offset: number, data: Uint8Array): Uint8Array =>
  concatBytes(Uint8Array.of(0x54, 0x02, offset >> 8, offset & 0xff), encodeTlv(0x53, data));

describe('files', () => {
  it('creates, extends, reads (with 6282 at EOF) and deletes EFs', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x9000, 0x00, 0xd7, 0xc4, 0x01, write(0, asciiBytes('hello')));
    h.expectSw(0x9000, 0x00, 0xd7, 0xc4, 0x01, write(5, asciiBytes(' world')));
    h.expectSw(0x9000, 0x00, 0xd7, 0xc4, 0x01, write(0, asciiBytes('J')));
    expect(new TextDecoder().decode(h.expectSw(0x6282, 0x00, 0xb1, 0xc4, 0x01, OFF0, 256))).toBe(
      'Jello world',
    );
    expect(
      new TextDecoder().decode(
        h.expectSw(0x9000, 0x00, 0xb1, 0xc4, 0x01, Uint8Array.of(0x54, 0x02, 0, 6), 5),
      ),
    ).toBe('world');
    h.expectSw(0x6282, 0x00, 0xb1, 0xc4, 0x01, Uint8Array.of(0x54, 0x02, 0, 11), 16);
    h.expectSw(0x6b00, 0x00, 0xb1, 0xc4, 0x01, Uint8Array.of(0x54, 0x02, 0, 12), 16);
    h.expectSw(0x6b00, 0x00, 0xd7, 0xc4, 0x01, write(20, asciiBytes('x')));
    h.expectSw(0x6a80, 0x00, 0xd7, 0xc4, 0x01, OFF0);
    h.expectSw(0x6a80, 0x00, 0xb1, 0xc4, 0x01, Uint8Array.of(0x54, 0x05), 16);
    // Plain B0 on the current EF: none right after applet selection.
    h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    h.expectSw(0x6986, 0x00, 0xb0, 0x00, 0x00, undefined, 4);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, asciiBytes('648219'));
    h.expectSw(0x9000, 0x00, 0xa4, 0x00, 0x0c, Uint8Array.of(0xc4, 0x01));
    expect(new TextDecoder().decode(h.expectSw(0x9000, 0x00, 0xb0, 0x00, 0x01, undefined, 4))).toBe(
      'ello',
    );
    h.expectSw(0x6a82, 0x00, 0xa4, 0x00, 0x0c, Uint8Array.of(0xc4, 0x09));
    expect([...h.expectSw(0x9000, 0x80, 0x58, 0x00, 0x00, undefined, 65536)]).toEqual([
      0xc4, 0x01, 0xcc, 0x00,
    ]);
    h.expectSw(0x9000, 0x00, 0xe4, 0x02, 0x00, Uint8Array.of(0xc4, 0x01));
    h.expectSw(0x6a82, 0x00, 0xe4, 0x02, 0x00, Uint8Array.of(0xc4, 0x01));
    h.expectSw(0x6a82, 0x00, 0xb1, 0xc4, 0x01, OFF0, 256);
    h.expectSw(0x6a86, 0x00, 0xe4, 0x00, 0x00, Uint8Array.of(0xc4, 0x01));
  });

  it('enforces access: writes and deletes need a user, CD needs a user, CC and 2F02 are protected', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x9000, 0x00, 0xd7, 0xcd, 0x01, write(0, asciiBytes('secret')));
    generateKey(h, 1, 'UTACCESS00001');
    h.expectSw(0x6982, 0x00, 0xd7, 0xcc, 0x01, write(0, asciiBytes('k')));
    h.expectSw(0x6982, 0x00, 0xd7, 0x2f, 0x02, write(0, asciiBytes('k')));
    h.expectSw(0x6982, 0x00, 0xe4, 0x02, 0x00, Uint8Array.of(0x2f, 0x02));
    h.expectSw(0x6982, 0x00, 0xe4, 0x02, 0x00, Uint8Array.of(0xcc, 0x00));
    h.expectSw(0x6982, 0x00, 0xb1, 0xcc, 0x01, OFF0, 256);
    h.expectSw(0x6982, 0x00, 0xb1, 0xcc, 0x00, OFF0, 256);
    h.expectSw(0x6282, 0x00, 0xb1, 0xcd, 0x01, OFF0, 256);
    h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID); // log out
    h.expectSw(0x6982, 0x00, 0xb1, 0xcd, 0x01, OFF0, 256);
    h.expectSw(0x6982, 0x00, 0xd7, 0xc4, 0x02, write(0, asciiBytes('x')));
    h.expectSw(0x6982, 0x00, 0xe4, 0x02, 0x00, Uint8Array.of(0xce, 0x01));
    // Public objects stay readable without login (docs/card-reference.md §12.1).
    h.expectSw(0x6282, 0x00, 0xb1, 0xce, 0x01, OFF0, 65536);
    h.expectSw(0x6282, 0x00, 0xb1, 0x2f, 0x02, OFF0, 65536);
    expect([...h.expectSw(0x9000, 0x80, 0x58, 0x00, 0x00, undefined, 65536)]).toEqual([
      0xcc, 0x00, 0xcc, 0x01, 0xcd, 0x01, 0xce, 0x01,
    ]);
  });

  it('supports the OpenSC style: SELECT by path (P1 08) then B1/D7 on the current EF (P1P2 0000)', () => {
    const h = newCard();
    initAndLogin(h);
    const fcp = h.expectSw(0x9000, 0x00, 0xa4, 0x08, 0x04, Uint8Array.of(0x2f, 0x02), 256);
    expect(fcp[0]).toBe(0x62);
    const cur = h.expectSw(0x6282, 0x00, 0xb1, 0x00, 0x00, OFF0, 65536);
    expect(bytesEqual(cur, h.expectSw(0x6282, 0x00, 0xb1, 0x2f, 0x02, OFF0, 65536))).toBe(true);
    // Create (write 0 bytes), select, then write through the current EF.
    h.expectSw(0x6a82, 0x00, 0xa4, 0x00, 0x0c, Uint8Array.of(0x2f, 0x03));
    h.expectSw(0x9000, 0x00, 0xd7, 0x2f, 0x03, write(0, new Uint8Array(0)));
    h.expectSw(0x9000, 0x00, 0xa4, 0x00, 0x0c, Uint8Array.of(0x2f, 0x03));
    h.expectSw(0x9000, 0x00, 0xd7, 0x00, 0x00, write(0, asciiBytes('label')));
    expect(new TextDecoder().decode(h.expectSw(0x9000, 0x00, 0xb1, 0x00, 0x00, OFF0, 5))).toBe(
      'label',
    );
    h.expectSw(0x6a86, 0x00, 0xa4, 0x01, 0x0c, Uint8Array.of(0x2f, 0x03));
  });

  it('reads EF 2F02 in short chunks until 6282', () => {
    const h = newCard();
    const whole = h.expectSw(0x6282, 0x00, 0xb1, 0x2f, 0x02, OFF0, 65536);
    const chunks: number[] = [];
    for (let off = 0; ;) {
      const r = h.send(
        0x00,
        0xb1,
        0x2f,
        0x02,
        Uint8Array.of(0x54, 0x02, off >> 8, off & 0xff),
        200,
      );
      chunks.push(...r.data);
      off += r.data.length;
      if (r.sw === 0x6282) break;
      expect(r.sw).toBe(0x9000);
    }
    expect(chunks).toEqual([...whole]);
  });

  it('refuses writes beyond the memory capacity (6A84)', () => {
    const h = newCard();
    initAndLogin(h);
    const big = new Uint8Array(0x7000);
    h.expectSw(0x9000, 0x00, 0xd7, 0xc9, 0x01, write(0, big));
    h.expectSw(0x9000, 0x00, 0xd7, 0xc9, 0x02, write(0, big));
    h.expectSw(0x6a84, 0x00, 0xd7, 0xc9, 0x03, write(0, big));
    h.expectSw(0x6a84, 0x00, 0xd7, 0xc9, 0x04, write(0, new Uint8Array(0x8000)));
  });
});

describe('GENERATE ASYMMETRIC KEY PAIR', () => {
  it('returns an attested request that verifies inner, outer (device key from 2F02) and chains to the root', () => {
    const h = newCard();
    initAndLogin(h);
    const request = generateKey(h, 7, 'UTKEYGEN00001');
    const stored = h.expectSw(0x6282, 0x00, 0xb1, 0xce, 0x07, OFF0, 65536);
    expect(bytesEqual(stored, request)).toBe(true);
    const req = parseAuthenticatedRequest(request);
    if (!req.ok) throw new Error(req.error.message);
    expect(req.value.inner.body.chr).toBe('UTKEYGEN00001');
    expect(req.value.outerCar).toBe(new TextDecoder().decode(h.deviceChr));
    expect(verifySelfSigned(req.value.inner)).toBe(true);
    const root = parseCvc(testCa().root.cvc);
    if (!root.ok) throw new Error('root');
    const rootKey = keyOf(root.value);
    const { device, dica } = deviceChain(h);
    const dicaCvc = parseCvc(dica);
    const devCvc = parseCvc(device);
    if (!rootKey.ok || !dicaCvc.ok || !devCvc.ok) throw new Error('chain');
    expect(verifyCvc(dicaCvc.value, rootKey.value)).toBe(true);
    const dicaKey = keyOf(dicaCvc.value, rootKey.value.curve.domain);
    if (!dicaKey.ok) throw new Error('dica key');
    expect(verifyCvc(devCvc.value, dicaKey.value)).toBe(true);
    const devKey = keyOf(devCvc.value, rootKey.value.curve.domain);
    if (!devKey.ok) throw new Error('device key');
    expect(verifyOuterSignature(req.value, devKey.value)).toBe(true);
    // Another device's key does not verify it.
    const other = parseCvc(deviceChain(newCard()).device);
    if (!other.ok) throw new Error('other');
    const otherKey = keyOf(other.value, rootKey.value.curve.domain);
    expect(otherKey.ok && verifyOuterSignature(req.value, otherKey.value)).toBe(false);
  });

  it('supports secp256r1 and answers errors per docs/card-reference.md §7', () => {
    const h = newCard();
    h.expectSw(0x6982, 0x00, 0x46, 0x01, 0x00, ecTemplate('UTKEY00000001'), 65536);
    initAndLogin(h);
    const req = parseAuthenticatedRequest(generateKey(h, 2, 'UTP256KEY0001', 'secp256r1'));
    expect(req.ok && req.value.inner.body.publicKey.point!.length).toBe(65);
    h.expectSw(0x6a86, 0x00, 0x46, 0x00, 0x00, ecTemplate('UTKEY00000001'), 65536);
    h.expectSw(0x6a86, 0x00, 0x46, 0x01, 0x01, ecTemplate('UTKEY00000001'), 65536);
    h.expectSw(
      0x6a80,
      0x00,
      0x46,
      0x01,
      0x00,
      encodeTlv(0x5f20, asciiBytes('UTNOKEY000001')),
      65536,
    );
    h.expectSw(0x6a80, 0x00, 0x46, 0x01, 0x00, Uint8Array.of(0x7f, 0x49, 0x05), 65536);
    const rsa = concatBytes(
      encodeTlv(
        0x7f49,
        encodeTlv(0x06, Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x01, 0x02)),
        encodeTlv(0x02, Uint8Array.of(0x08, 0x00)),
      ),
      encodeTlv(0x5f20, asciiBytes('UTRSA00000001')),
    );
    // RSA is supported since issue 8 (rsa.test.ts); a template without its exponent 82 is wrong
    // data, and a key algorithm the card does not know is still 6A81.
    h.expectSw(0x6a80, 0x00, 0x46, 0x01, 0x00, rsa, 65536);
    const unknown = concatBytes(
      encodeTlv(
        0x7f49,
        encodeTlv(0x06, Uint8Array.of(0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02)),
        encodeTlv(0x02, Uint8Array.of(0x08, 0x00)),
      ),
      encodeTlv(0x5f20, asciiBytes('UTUNK00000001')),
    );
    h.expectSw(0x6a81, 0x00, 0x46, 0x01, 0x00, unknown, 65536);
  });
});

describe('SIGN', () => {
  it('returns DER that verifies, for 73 and 70; refuses without login and for unknown keys', () => {
    const h = newCard();
    initAndLogin(h);
    const req = parseAuthenticatedRequest(generateKey(h, 1, 'UTSIGN0000001'));
    if (!req.ok) throw new Error(req.error.message);
    const point = req.value.inner.body.publicKey.point!;
    const curve = curveByName('brainpoolP256r1');
    const msg = asciiBytes('message to sign');
    const der = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x73, msg, 256);
    expect(der[0]).toBe(0x30);
    const plain = derToPlain(der, 32);
    expect(plain.ok && verifyPlain(curve, point, msg, plain.value, 'sha256')).toBe(true);
    const der384 = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x74, msg, 256);
    const plain384 = derToPlain(der384, 32);
    expect(plain384.ok && verifyPlain(curve, point, msg, plain384.value, 'sha384')).toBe(true);
    const digest = new Uint8Array(32).fill(0x42);
    const der70 = h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x70, digest, 256);
    expect(der70[0]).toBe(0x30);
    h.expectSw(0x6a80, 0x80, 0x68, 0x01, 0x70, new Uint8Array(65), 256);
    h.expectSw(0x6a88, 0x80, 0x68, 0x09, 0x73, msg, 256);
    h.expectSw(0x6a81, 0x80, 0x68, 0x00, 0x73, msg, 256); // device key is no oracle
    h.expectSw(0x6a81, 0x80, 0x68, 0x01, 0x21, msg, 256);
    h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    h.expectSw(0x6982, 0x80, 0x68, 0x01, 0x73, msg, 256);
  });

  it('honours the 91 algorithm list (6A81) and the 90 use counter (6984)', () => {
    const h = newCard();
    initAndLogin(h);
    generateKey(h, 1, 'UTLIMIT000001', 'brainpoolP256r1', [
      encodeTlv(0x90, Uint8Array.of(0, 0, 0, 2)),
      encodeTlv(0x91, Uint8Array.of(0x73)),
    ]);
    const msg = asciiBytes('m');
    h.expectSw(0x6a81, 0x80, 0x68, 0x01, 0x70, new Uint8Array(32), 256);
    h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x73, msg, 256);
    h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x73, msg, 256);
    h.expectSw(0x6984, 0x80, 0x68, 0x01, 0x73, msg, 256);
    expect(h.state.keys.get(1)!.useCounter).toBe(0);
  });
});
