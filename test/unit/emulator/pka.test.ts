import { describe, expect, it } from 'vitest';
import { asciiBytes, bytesEqual } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { SW_PKA_ACTIVE } from '../../../emulator/card/cmd-pin';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import {
  authenticate,
  custodianSign,
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

describe('PKA 1-of-1', () => {
  it('registers a custodian key with the full attestation sequence and authenticates', () => {
    const target = newCard();
    initAndLogin(target, { pin: null, pka: [1, 1] });
    expect([...target.expectSw(0x9000, 0x80, 0x54, 0x00, 0x00, undefined, 4)]).toEqual([
      1, 1, 1, 0,
    ]);
    target.expectSw(SW_PKA_ACTIVE, 0x00, 0x20, 0x00, 0x81);
    const c = custodian(1);
    expect([...register(target, c.h, 1)]).toEqual([1, 0, 1, 0]);
    // Not authenticated yet: protected operations refused.
    target.expectSw(0x6982, 0x00, 0x46, 0x01, 0x00, new Uint8Array([0x7f, 0x49, 0x00]));
    expect(authenticate(target, c.h, 1, c.chr)).toBe(0x9000);
    expect([...target.expectSw(0x9000, 0x80, 0x54, 0x00, 0x00, undefined, 4)]).toEqual([
      1, 0, 1, 1,
    ]);
    target.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81);
    // Quorum reached: key generation and SIGN work.
    generateKey(target, 3, 'UTTARGETKEY0001');
    target.expectSw(0x9000, 0x80, 0x68, 0x03, 0x73, asciiBytes('hello'), 256);
    // Enumerate: slot 0 authenticated → 9001.
    const e = target.send(0x80, 0x54, 0x02, 0x00);
    expect(e.sw).toBe(0x9001);
    expect(new TextDecoder().decode(e.data)).toBe(c.chr);
    target.expectSw(0x6a86, 0x80, 0x54, 0x02, 0x01);
  });
});

describe('PKA 3-of-5', () => {
  it('needs three custodians; re-select logs out', () => {
    const target = newCard();
    initAndLogin(target, { pin: null, pka: [5, 3] });
    const cs = [1, 2, 3, 4, 5].map((i) => custodian(100 + i));
    cs.forEach((c, i) => {
      const status = register(target, c.h, 1);
      expect([...status]).toEqual([5, 4 - i, 3, 0]);
    });
    // Table full.
    const extra = custodian(200);
    const { device, dica } = deviceChain(extra.h);
    importCert(target, dica);
    importCert(target, device);
    const req = parseRequest(
      extra.h.expectSw(0x6282, 0x00, 0xb1, 0xce, 0x01, new Uint8Array([0x54, 0x02, 0, 0]), 65536),
    );
    target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(req.outerCar)));
    target.expectSw(0x6a84, 0x80, 0x54, 0x00, 0x00, req.content, 4);

    expect(authenticate(target, cs[0]!.h, 1, cs[0]!.chr)).toBe(0x9000);
    expect(authenticate(target, cs[3]!.h, 1, cs[3]!.chr)).toBe(0x9000);
    target.expectSw(0x6982, 0x80, 0x68, 0x01, 0x73, asciiBytes('x'), 256);
    target.expectSw(SW_PKA_ACTIVE, 0x00, 0x20, 0x00, 0x81);
    // Already authenticated key cannot be selected again.
    target.expectSw(0x6985, 0x00, 0x22, 0x81, 0xa4, encodeTlv(0x83, asciiBytes(cs[0]!.chr)));
    expect(authenticate(target, cs[4]!.h, 1, cs[4]!.chr)).toBe(0x9000);
    expect([...target.expectSw(0x9000, 0x80, 0x54, 0x00, 0x00, undefined, 4)]).toEqual([
      5, 0, 3, 3,
    ]);
    target.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81);
    target.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    expect([...target.expectSw(0x9000, 0x80, 0x54, 0x00, 0x00, undefined, 4)]).toEqual([
      5, 0, 3, 0,
    ]);
    target.expectSw(SW_PKA_ACTIVE, 0x00, 0x20, 0x00, 0x81);
    expect(bytesEqual(target.state.pka!.slots[0]!.chr, asciiBytes(cs[0]!.chr))).toBe(true);
  });
});

describe('PKA authentication failures', () => {
  function setup(): { target: Harness; c: { h: Harness; chr: string } } {
    const target = newCard();
    initAndLogin(target, { pin: null, pka: [2, 1] });
    const c = custodian(300);
    register(target, c.h, 1);
    return { target, c };
  }
  const selectKey = (t: Harness, chr: string, sw = 0x9000): void => {
    t.expectSw(sw, 0x00, 0x22, 0x81, 0xa4, encodeTlv(0x83, asciiBytes(chr)));
  };
  const challenge = (t: Harness): Uint8Array =>
    t.expectSw(0x9000, 0x00, 0x84, 0x00, 0x00, undefined, 8);

  it('rejects a signature over other data (6985) and burns the challenge for that key', () => {
    const { target, c } = setup();
    selectKey(target, c.chr);
    const ch = challenge(target);
    const wrong = ch.slice();
    wrong[0]! ^= 1;
    target.expectSw(0x6985, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, target.deviceChr, wrong));
    // Retrying the same challenge with the correct signature: challenge already used by this key.
    selectKey(target, c.chr);
    target.expectSw(0x6985, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, target.deviceChr, ch));
    target.expectSw(SW_PKA_ACTIVE, 0x00, 0x20, 0x00, 0x81);
  });

  it('rejects a signature bound to another target device id (6985)', () => {
    const { target, c } = setup();
    const other = newCard();
    selectKey(target, c.chr);
    const ch = challenge(target);
    target.expectSw(0x6985, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, other.deviceChr, ch));
  });

  it('rejects an unregistered key at MSE (6A88) and EXTERNAL AUTHENTICATE without MSE (6A88)', () => {
    const { target, c } = setup();
    selectKey(target, 'UTNOBODY00001', 0x6a88);
    const ch = challenge(target);
    target.expectSw(0x6a88, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, target.deviceChr, ch));
    // A key generated by a custodian but never registered cannot authenticate either.
    generateKey(c.h, 2, 'UTCUSTOTHER01');
    selectKey(target, 'UTCUSTOTHER01', 0x6a88);
  });

  it('rejects a replayed signature after re-select and an expired challenge (6985)', () => {
    const { target, c } = setup();
    selectKey(target, c.chr);
    const ch = challenge(target);
    const sig = custodianSign(c.h, 1, target.deviceChr, ch);
    target.expectSw(0x9000, 0x00, 0x82, 0x00, 0x00, sig);
    target.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    selectKey(target, c.chr);
    target.expectSw(0x6985, 0x00, 0x82, 0x00, 0x00, sig); // no challenge in the new session
    const first = challenge(target);
    challenge(target); // replaces the first
    target.expectSw(0x6985, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, target.deviceChr, first));
    // Reset also forgets the challenge.
    selectKey(target, c.chr);
    const ch2 = challenge(target);
    target.card.reset();
    target.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    selectKey(target, c.chr);
    target.expectSw(0x6985, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, target.deviceChr, ch2));
  });

  it('forgets an unused challenge, the selected key and imported certificates on re-select', () => {
    const { target, c } = setup();
    selectKey(target, c.chr);
    const ch = challenge(target);
    target.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    // Selected key gone: 6A88; after MSE again the old (never used) challenge is gone: 6985.
    target.expectSw(0x6a88, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, target.deviceChr, ch));
    selectKey(target, c.chr);
    target.expectSw(0x6985, 0x00, 0x82, 0x00, 0x00, custodianSign(c.h, 1, target.deviceChr, ch));
    // Imported device certificate and B6 selection are gone too.
    const other = custodian(301);
    const { device, dica } = deviceChain(other.h);
    importCert(target, dica);
    importCert(target, device);
    const deviceChr = new TextDecoder().decode(other.h.deviceChr);
    target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(deviceChr)));
    target.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    const req = parseRequest(
      other.h.expectSw(0x6282, 0x00, 0xb1, 0xce, 0x01, new Uint8Array([0x54, 0x02, 0, 0]), 65536),
    );
    target.expectSw(0x6a88, 0x80, 0x54, 0x00, 0x00, req.content, 4);
    target.expectSw(0x6a88, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(deviceChr)));
  });

  it('answers 6700 for an empty EXTERNAL AUTHENTICATE', () => {
    const { target, c } = setup();
    selectKey(target, c.chr);
    challenge(target);
    target.expectSw(0x6700, 0x00, 0x82, 0x00, 0x00);
  });
});

describe('PKA modes', () => {
  it('PIN or PKA (default): the PIN alone unlocks', () => {
    const target = newCard();
    initAndLogin(target, { pka: [1, 1] });
    generateKey(target, 1, 'UTPINORPKA001');
  });

  it('PKA and PIN (option 0010): both are needed', () => {
    const target = newCard();
    initAndLogin(target, { pka: [1, 1], options: 0x0011 });
    target.expectSw(0x6982, 0x80, 0x68, 0x01, 0x73, asciiBytes('x'), 256);
    target.expectSw(SW_PKA_ACTIVE, 0x00, 0x20, 0x00, 0x81);
    const c = custodian(500);
    register(target, c.h, 1);
    target.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    expect(authenticate(target, c.h, 1, c.chr)).toBe(0x9000);
    target.expectSw(0x63c3, 0x00, 0x20, 0x00, 0x81);
    target.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, asciiBytes('648219'));
    target.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81);
    generateKey(target, 1, 'UTBOTH0000001');
  });

  it('replacing a key needs option 0008 and an authenticated user', () => {
    const target = newCard();
    initAndLogin(target, { pin: null, pka: [1, 1], options: 0x0009 });
    const a = custodian(600);
    const b = custodian(601);
    register(target, a.h, 1);
    const { device, dica } = deviceChain(b.h);
    const req = parseRequest(
      b.h.expectSw(0x6282, 0x00, 0xb1, 0xce, 0x01, new Uint8Array([0x54, 0x02, 0, 0]), 65536),
    );
    importCert(target, dica);
    importCert(target, device);
    target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(req.outerCar)));
    target.expectSw(0x6982, 0x80, 0x54, 0x01, 0x00, req.content, 4);
    expect(authenticate(target, a.h, 1, a.chr)).toBe(0x9000);
    target.expectSw(0x9000, 0x80, 0x54, 0x01, 0x00, req.content, 4);
    expect(new TextDecoder().decode(target.state.pka!.slots[0]!.chr)).toBe(b.chr);
    const noReplace = newCard();
    initAndLogin(noReplace, { pin: null, pka: [1, 1] });
    noReplace.expectSw(0x6986, 0x80, 0x54, 0x01, 0x00, req.content, 4);
  });
});
