import { describe, expect, it } from 'vitest';
import { asciiBytes, bytesEqual } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { curveByName } from '../../../shared/crypto/curves';
import { parseAuthenticatedRequestContent } from '../../../shared/cvc/cvc';
import { buildAuthenticatedRequest } from '../../../shared/cvc/encode';
import {
  deviceChain,
  generateKey,
  importCert,
  initAndLogin,
  newCard,
  parseRequest,
  register,
  custodian,
  type Harness,
} from './helpers';

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  for (let i = 0; i + needle.length <= hay.length; i++) {
    if (bytesEqual(hay.subarray(i, i + needle.length), needle)) return i;
  }
  return -1;
}

describe('PKA registration attestation', () => {
  function prepared(): {
    target: Harness;
    c: { h: Harness; chr: string };
    req: ReturnType<typeof parseRequest>;
  } {
    const target = newCard();
    initAndLogin(target, { pin: null, pka: [3, 2] });
    const c = custodian(400);
    const req = parseRequest(
      c.h.expectSw(0x6282, 0x00, 0xb1, 0xce, 0x01, new Uint8Array([0x54, 0x02, 0, 0]), 65536),
    );
    return { target, c, req };
  }
  const selectOuter = (t: Harness, chr: string, sw = 0x9000): void => {
    t.expectSw(sw, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(chr)));
  };

  it('refuses without an imported device certificate (6A88)', () => {
    const { target, req } = prepared();
    selectOuter(target, req.outerCar, 0x6a88);
    target.expectSw(0x6a88, 0x80, 0x54, 0x00, 0x00, req.content, 4);
  });

  it('refuses a device certificate whose signature is tampered (6985)', () => {
    const { target, c } = prepared();
    const { device, dica } = deviceChain(c.h);
    importCert(target, dica);
    const bad = device.slice();
    bad[bad.length - 1]! ^= 0x01;
    importCert(target, bad, 0x6985);
  });

  it('refuses a DICA not issued by the trusted root (6985)', async () => {
    const { generateTestCa } = await import('../../../emulator/ca/test-ca');
    const foreign = newCard({ ca: generateTestCa() });
    const target = newCard();
    initAndLogin(target, { pin: null, pka: [1, 1] });
    importCert(target, deviceChain(foreign).dica, 0x6985);
  });

  it('refuses when the outer signer is the root or the DICA (6985)', () => {
    const { target, c, req } = prepared();
    const { dica } = deviceChain(c.h);
    importCert(target, dica);
    selectOuter(target, 'UTCUSTDICA00001');
    target.expectSw(0x6985, 0x80, 0x54, 0x00, 0x00, req.content, 4);
    selectOuter(target, 'UTCUSTSRCA00001');
    target.expectSw(0x6985, 0x80, 0x54, 0x00, 0x00, req.content, 4);
  });

  it('refuses tampered requests: outer signature, inner body, wrong outer device (6985)', () => {
    const { target, c, req } = prepared();
    const { device, dica } = deviceChain(c.h);
    importCert(target, dica);
    importCert(target, device);
    selectOuter(target, req.outerCar);
    const badOuter = req.content.slice();
    badOuter[badOuter.length - 1]! ^= 0x01;
    target.expectSw(0x6985, 0x80, 0x54, 0x00, 0x00, badOuter, 4);
    const badInner = req.content.slice();
    const chrAt = indexOf(badInner, asciiBytes(c.chr));
    expect(chrAt).toBeGreaterThan(0);
    badInner[chrAt]! ^= 0x01;
    target.expectSw(0x6985, 0x80, 0x54, 0x00, 0x00, badInner, 4);
    // Another device's certificate selected as outer signer.
    const other = custodian(401);
    importCert(target, deviceChain(other.h).device);
    selectOuter(target, new TextDecoder().decode(other.h.deviceChr));
    target.expectSw(0x6985, 0x80, 0x54, 0x00, 0x00, req.content, 4);
    expect(target.state.pka!.slots.length).toBe(0);
  });

  it('refuses a duplicate CHR (6985), a non-256-bit key (6A80) and garbage (6A80)', () => {
    const { target, c } = prepared();
    register(target, c.h, 1);
    const { device } = deviceChain(c.h);
    const again = parseRequest(
      c.h.expectSw(0x6282, 0x00, 0xb1, 0xce, 0x01, new Uint8Array([0x54, 0x02, 0, 0]), 65536),
    );
    importCert(target, device);
    selectOuter(target, again.outerCar);
    target.expectSw(0x6985, 0x80, 0x54, 0x00, 0x00, again.content, 4);
    const big = parseRequest(generateKey(c.h, 5, 'UTCUSTBIG0001', 'secp384r1'));
    target.expectSw(0x6a80, 0x80, 0x54, 0x00, 0x00, big.content, 4);
    target.expectSw(0x6a80, 0x80, 0x54, 0x00, 0x00, new Uint8Array([1, 2, 3]), 4);
  });

  it('refuses a request whose inner self-signature is bad even with a valid outer one (6985)', () => {
    const { target, c, req } = prepared();
    const parsed = parseAuthenticatedRequestContent(req.content);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const inner = parsed.value.inner.encoded.slice();
    inner[inner.length - 1]! ^= 0x01; // last byte of the inner signature
    const id = c.h.state.identity;
    const forged = buildAuthenticatedRequest(
      inner,
      req.outerCar,
      curveByName(id.curve),
      id.privateKey,
    );
    const { device, dica } = deviceChain(c.h);
    importCert(target, dica);
    importCert(target, device);
    target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(req.outerCar)));
    target.expectSw(0x6985, 0x80, 0x54, 0x00, 0x00, parseRequest(forged).content, 4);
    // The same wrapping around the untampered inner request is accepted: the check is the inner one.
    const good = buildAuthenticatedRequest(
      parsed.value.inner.encoded,
      req.outerCar,
      curveByName(id.curve),
      id.privateKey,
    );
    target.expectSw(0x9000, 0x80, 0x54, 0x00, 0x00, parseRequest(good).content, 4);
  });

  it('answers 6D00 on a device without PKA', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x6d00, 0x80, 0x54, 0x00, 0x00, undefined, 4);
  });
});
