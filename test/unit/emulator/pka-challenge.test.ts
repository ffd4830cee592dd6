import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes } from '../../../shared/codec/bytes';
import { derToPlain } from '../../../shared/crypto/ecdsa';
import { encodeTlv } from '../../../shared/codec/tlv';
import { custodian, initAndLogin, newCard, register } from './helpers';

// Issue 7 item 6 on the card side: only an 8-byte GET CHALLENGE answer is a PKA challenge, so
// the emulated target never verifies a signature over CHR ‖ challenge of another length.
describe('emulator: PKA challenge length (issue 7 item 6)', () => {
  it('7.6 EXTERNAL AUTHENTICATE after a challenge of any other length is refused', () => {
    const target = newCard();
    initAndLogin(target, { pin: null, pka: [1, 1] });
    const c = custodian(61);
    register(target, c.h, 1);
    for (const le of [1, 7, 9, 16, 255]) {
      target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xa4, encodeTlv(0x83, asciiBytes(c.chr)));
      const challenge = target.expectSw(0x9000, 0x00, 0x84, 0x00, 0x00, undefined, le);
      expect(challenge.length).toBe(le);
      // The custodian card signs whatever it is given; the target must not accept it.
      const der = c.h.expectSw(
        0x9000,
        0x80,
        0x68,
        1,
        0x73,
        concatBytes(target.deviceChr, challenge),
        256,
      );
      const plain = derToPlain(der, 32);
      if (!plain.ok) throw new Error(plain.error.message);
      expect(target.send(0x00, 0x82, 0x00, 0x00, plain.value).sw, `Le ${le}`).toBe(0x6985);
    }
    // The genuine length still authenticates.
    target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xa4, encodeTlv(0x83, asciiBytes(c.chr)));
    const challenge = target.expectSw(0x9000, 0x00, 0x84, 0x00, 0x00, undefined, 8);
    const der = c.h.expectSw(
      0x9000,
      0x80,
      0x68,
      1,
      0x73,
      concatBytes(target.deviceChr, challenge),
      256,
    );
    const plain = derToPlain(der, 32);
    if (!plain.ok) throw new Error(plain.error.message);
    expect(target.send(0x00, 0x82, 0x00, 0x00, plain.value).sw).toBe(0x9000);
  });
});
