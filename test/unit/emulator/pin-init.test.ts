import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes, fromHex } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { SW_PKA_ACTIVE } from '../../../emulator/card/cmd-pin';
import { generateKey, initAndLogin, initData, newCard, SO_PIN, USER_PIN } from './helpers';

const NEW_PIN = asciiBytes('1234567890');
const NEW_SO = fromHex('0102030405060708');

describe('VERIFY', () => {
  it('reports 6A88 for user and SO-PIN on a factory-fresh device', () => {
    const h = newCard();
    h.expectSw(0x6a88, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x6a88, 0x00, 0x20, 0x00, 0x88);
    h.expectSw(0x6a88, 0x00, 0x20, 0x00, 0x81, USER_PIN);
  });

  it('counts wrong PINs down, blocks at zero and a correct PIN resets the counter', () => {
    const h = newCard();
    initAndLogin(h, { retries: 3 });
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x63c2, 0x00, 0x20, 0x00, 0x81, asciiBytes('000000'));
    // A failed VERIFY also drops the verified state.
    h.expectSw(0x63c2, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, USER_PIN);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x63c2, 0x00, 0x20, 0x00, 0x81, asciiBytes('000000'));
    h.expectSw(0x63c1, 0x00, 0x20, 0x00, 0x81, asciiBytes('000001'));
    h.expectSw(0x6983, 0x00, 0x20, 0x00, 0x81, asciiBytes('000002'));
    h.expectSw(0x6983, 0x00, 0x20, 0x00, 0x81, USER_PIN);
    h.expectSw(0x6983, 0x00, 0x20, 0x00, 0x81);
    expect(h.state.userPin!.retries).toBe(0);
  });

  it('refuses PIN lengths outside 6–16 with 6A80 without counting', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x6a80, 0x00, 0x20, 0x00, 0x81, asciiBytes('12345'));
    h.expectSw(0x6a80, 0x00, 0x20, 0x00, 0x81, new Uint8Array(17));
    expect(h.state.userPin!.retries).toBe(3);
    h.expectSw(0x6a86, 0x00, 0x20, 0x01, 0x81);
    h.expectSw(0x6a88, 0x00, 0x20, 0x00, 0x82);
  });

  it('reports the transport PIN with 6984 until it is changed', () => {
    const h = newCard();
    h.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, initData({ options: 0x0003 }));
    h.expectSw(0x6984, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x6984, 0x00, 0x20, 0x00, 0x81, USER_PIN);
    h.expectSw(0x9000, 0x00, 0x24, 0x00, 0x81, concatBytes(USER_PIN, NEW_PIN));
    h.expectSw(0x63c3, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, NEW_PIN);
  });

  it('answers the PKA-only status before quorum and refuses PIN verification there', () => {
    const h = newCard();
    initAndLogin(h, { pin: null, pka: [2, 2] });
    h.expectSw(SW_PKA_ACTIVE, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x6a88, 0x00, 0x20, 0x00, 0x81, USER_PIN);
  });
});

describe('CHANGE REFERENCE DATA', () => {
  it('changes the user PIN with old ‖ new and counts a wrong old PIN', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x63c2, 0x00, 0x24, 0x00, 0x81, concatBytes(asciiBytes('111111'), NEW_PIN));
    h.expectSw(0x6a80, 0x00, 0x24, 0x00, 0x81, concatBytes(USER_PIN, asciiBytes('123')));
    h.expectSw(0x9000, 0x00, 0x24, 0x00, 0x81, concatBytes(USER_PIN, NEW_PIN));
    h.expectSw(0x63c2, 0x00, 0x20, 0x00, 0x81, USER_PIN); // the old PIN no longer works
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, NEW_PIN);
  });

  it('changes the SO-PIN (8 ‖ 8 bytes)', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x6a80, 0x00, 0x24, 0x00, 0x88, SO_PIN);
    h.expectSw(0x63ce, 0x00, 0x24, 0x00, 0x88, concatBytes(NEW_SO, NEW_SO));
    h.expectSw(0x9000, 0x00, 0x24, 0x00, 0x88, concatBytes(SO_PIN, NEW_SO));
    h.expectSw(0x63cf, 0x00, 0x20, 0x00, 0x88);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x88, NEW_SO);
  });
});

describe('RESET RETRY COUNTER', () => {
  function blocked(options: number): ReturnType<typeof newCard> {
    const h = newCard();
    initAndLogin(h, { options, retries: 1 });
    h.expectSw(0x6983, 0x00, 0x20, 0x00, 0x81, asciiBytes('000000'));
    return h;
  }

  it('unblocks with SO-PIN ‖ new PIN (P1 00) when option 0001 is set', () => {
    const h = blocked(0x0001);
    h.expectSw(0x63ce, 0x00, 0x2c, 0x00, 0x81, concatBytes(NEW_SO, NEW_PIN));
    h.expectSw(0x9000, 0x00, 0x2c, 0x00, 0x81, concatBytes(SO_PIN, NEW_PIN));
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, NEW_PIN);
  });

  it('resets the counter only with P1 01 and honours option 0020', () => {
    const h = blocked(0x0021);
    h.expectSw(0x6986, 0x00, 0x2c, 0x00, 0x81, concatBytes(SO_PIN, NEW_PIN));
    h.expectSw(0x6a80, 0x00, 0x2c, 0x01, 0x81, concatBytes(SO_PIN, NEW_PIN));
    h.expectSw(0x9000, 0x00, 0x2c, 0x01, 0x81, SO_PIN);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, USER_PIN);
  });

  it('is refused without option 0001 (6986)', () => {
    const h = blocked(0x0000);
    h.expectSw(0x6986, 0x00, 0x2c, 0x01, 0x81, SO_PIN);
  });
});

describe('INITIALIZE DEVICE', () => {
  it('wipes keys, files and PKA but keeps the identity, and needs the init code again', () => {
    const h = newCard();
    initAndLogin(h, { pka: [3, 2] });
    generateKey(h, 1, 'UTWIPE0000001');
    h.expectSw(0x9000, 0x00, 0xd7, 0x2f, 0x03, Uint8Array.of(0x53, 0x02, 0xaa, 0xbb));
    const identity = h.state.identity.chr.slice();
    const changesBefore = h.changes.count;
    h.expectSw(0x63ce, 0x80, 0x50, 0x00, 0x00, initData({ so: NEW_SO }));
    expect(h.state.keys.size).toBe(1);
    h.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, initData({ pin: NEW_PIN }));
    expect(h.changes.count).toBeGreaterThan(changesBefore);
    expect(h.state.keys.size).toBe(0);
    expect(h.state.files.size).toBe(0);
    expect(h.state.pka).toBeUndefined();
    expect([...h.state.identity.chr]).toEqual([...identity]);
    h.expectSw(0x63c3, 0x00, 0x20, 0x00, 0x81); // logged out
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, NEW_PIN);
    expect([...h.expectSw(0x9000, 0x80, 0x58, 0x00, 0x00, undefined, 256)]).toEqual([0xcc, 0x00]);
    h.expectSw(0x6282, 0x00, 0xb1, 0x2f, 0x02, Uint8Array.of(0x54, 0x02, 0, 0), 65536);
  });

  it('rejects malformed data with 6A80', () => {
    const h = newCard();
    const so = encodeTlv(0x82, SO_PIN);
    const pin = encodeTlv(0x81, USER_PIN);
    const bad = [
      Uint8Array.of(0x81, 0x06, 1, 2), // truncated TLV
      pin, // no init code
      concatBytes(pin, encodeTlv(0x82, SO_PIN.slice(0, 7))),
      so, // neither PIN nor PKA
      concatBytes(encodeTlv(0x81, asciiBytes('12345')), so),
      concatBytes(pin, so, encodeTlv(0x93, Uint8Array.of(2, 3))), // n > m
      concatBytes(pin, so, encodeTlv(0x93, Uint8Array.of(1, 0))),
      concatBytes(pin, so, encodeTlv(0x91, Uint8Array.of(0))),
      concatBytes(pin, so, encodeTlv(0x99, Uint8Array.of(0))),
      concatBytes(pin, so, so),
    ];
    for (const data of bad) h.expectSw(0x6a80, 0x80, 0x50, 0x00, 0x00, data);
    expect(h.state.initialized).toBe(false);
    h.expectSw(0x6a86, 0x80, 0x50, 0x01, 0x00, concatBytes(pin, so));
  });

  it('blocks re-initialization after 15 wrong init codes', () => {
    const h = newCard();
    initAndLogin(h);
    for (let i = 14; i >= 1; i--)
      h.expectSw(0x63c0 | i, 0x80, 0x50, 0x00, 0x00, initData({ so: NEW_SO }));
    h.expectSw(0x6983, 0x80, 0x50, 0x00, 0x00, initData({ so: NEW_SO }));
    h.expectSw(0x6983, 0x80, 0x50, 0x00, 0x00, initData());
  });
});

describe('DKEK status 80 52', () => {
  it('answers 6D00 without DKEK and shares/outstanding/KCV with one', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x6d00, 0x80, 0x52, 0x00, 0x00, undefined, 256);
    const d = newCard();
    initAndLogin(d, { dkek: 2 });
    expect([...d.expectSw(0x9000, 0x80, 0x52, 0x00, 0x00, undefined, 256).slice(0, 2)]).toEqual([
      2, 2,
    ]);
    // Key generation waits for all shares (docs/card-reference.md §3.6).
    d.expectSw(0x6985, 0x00, 0x46, 0x01, 0x00, Uint8Array.of(0x5f, 0x20, 0x01, 0x41));
    d.expectSw(0x6a80, 0x80, 0x52, 0x00, 0x00, new Uint8Array(31), 256);
    const s1 = d.expectSw(0x9000, 0x80, 0x52, 0x00, 0x00, new Uint8Array(32).fill(7), 256);
    const s2 = d.expectSw(0x9000, 0x80, 0x52, 0x00, 0x00, new Uint8Array(32).fill(9), 256);
    expect([s1[1], s2[1]]).toEqual([1, 0]);
    expect(s2.length).toBe(10);
    expect(s1.slice(2)).not.toEqual(s2.slice(2));
    d.expectSw(0x6985, 0x80, 0x52, 0x00, 0x00, new Uint8Array(32), 256);
    generateKey(d, 1, 'UTDKEK0000001');
  });
});
