import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { encodeTlv } from '../../../../shared/codec/tlv';
import { plainToDer } from '../../../../shared/crypto/ecdsa';
import { parseObjectList } from '../../../../shared/sc-hsm/files';
import { parseGenerateKeyResponse } from '../../../../shared/sc-hsm/keygen';
import { pinStatusFromSw } from '../../../../shared/sc-hsm/pin';
import { parsePkaSlot, parsePkaStatus } from '../../../../shared/sc-hsm/pka';
import { encodePrkd, parsePrkd } from '../../../../shared/sc-hsm/prkd';
import { parseProprietaryInfo, parseSelectResponse } from '../../../../shared/sc-hsm/select';
import { parseEcdsaSignature } from '../../../../shared/sc-hsm/sign';
import { h, value } from './helpers';

const AID = 'e82b0601040181c31f0201';

describe('SELECT answer (docs/card-reference.md §1.3)', () => {
  it('reads the 5-byte tag 85 of the emulator/Pico layout', () => {
    const fcp = fromHex(h(`62 17 82 01 38 84 0B ${AID} 85 05 00 13 FF 03 04`));
    expect(value(parseSelectResponse(fcp))).toEqual({
      version: { major: 3, minor: 4 },
      type: 0xff,
      options: 0x0013,
    });
  });

  it('reads the older 2-byte and intermediate forms from the end', () => {
    expect(value(parseSelectResponse(fromHex('620485020110')))).toEqual({
      version: { major: 1, minor: 16 },
    });
    expect(value(parseProprietaryInfo(fromHex('000206')))).toEqual({
      version: { major: 2, minor: 6 },
      type: 0,
    });
    expect(value(parseProprietaryInfo(fromHex('05000206')))).toEqual({
      version: { major: 2, minor: 6 },
      type: 0,
      options: 5,
    });
  });

  it('finds 85 nested in a constructed tag and tolerates trailing bytes and long lengths', () => {
    expect(value(parseSelectResponse(fromHex('620AA50880010085030002069000')))).toMatchObject({
      version: { major: 2, minor: 6 },
    });
    expect(value(parseSelectResponse(fromHex('62810485020306')))).toMatchObject({
      version: { major: 3, minor: 6 },
    });
  });

  it('rejects answers that are not a SmartCard-HSM FCP', () => {
    for (const bad of [
      '',
      '6f0485020306',
      '62038201',
      '62038201388',
      '6203820138',
      '6203850101',
      '62088506000000000306',
    ]) {
      const bytes = bad.length % 2 === 0 ? fromHex(bad) : new Uint8Array([0x62, 0x05]);
      expect(parseSelectResponse(bytes).ok, bad).toBe(false);
    }
  });
});

describe('PIN status model (docs/card-reference.md §3.1, §13.1)', () => {
  it('maps the documented status words', () => {
    expect(value(pinStatusFromSw(0x9000))).toEqual({ state: 'verified' });
    expect(value(pinStatusFromSw(0x63c3))).toEqual({ state: 'not-verified', retries: 3 });
    expect(value(pinStatusFromSw(0x63c0))).toEqual({ state: 'blocked', retries: 0 });
    expect(value(pinStatusFromSw(0x6983))).toEqual({ state: 'blocked', retries: 0 });
    expect(value(pinStatusFromSw(0x6984))).toEqual({ state: 'transport-pin' });
    expect(value(pinStatusFromSw(0x6a88))).toEqual({ state: 'not-initialized' });
  });

  it('reads OpenSC "command failed" words as PKA active and other failures as errors', () => {
    for (const sw of [0x6f00, 0x6981, 0x6300, 0x6600, 0x6283]) {
      expect(value(pinStatusFromSw(sw)).state).toBe('pka-active');
    }
    for (const sw of [0x6e00, 0x6d00, 0x6982, 0x6700, 0x6a86, 0x6110, 0x6c08]) {
      expect(pinStatusFromSw(sw).ok).toBe(false);
    }
  });
});

describe('PKA status and slots (docs/card-reference.md §6.4, §6.8 Pico vectors)', () => {
  it('parses the status bytes of the 1-of-1 test sequence', () => {
    expect(value(parsePkaStatus(fromHex('01010100')))).toEqual({
      m: 1,
      missing: 1,
      n: 1,
      authenticated: 0,
    });
    expect(value(parsePkaStatus(fromHex('01000100')))).toEqual({
      m: 1,
      missing: 0,
      n: 1,
      authenticated: 0,
    });
    expect(value(parsePkaStatus(fromHex('01000101')))).toEqual({
      m: 1,
      missing: 0,
      n: 1,
      authenticated: 1,
    });
    expect(value(parsePkaStatus(fromHex('05000300')))).toEqual({
      m: 5,
      missing: 0,
      n: 3,
      authenticated: 0,
    });
  });

  it('rejects inconsistent status', () => {
    for (const bad of [
      '',
      '010101',
      '0101010000',
      '00000000',
      '01010200',
      '02030100',
      '02000103',
      '02000000',
    ]) {
      expect(parsePkaStatus(fromHex(bad)).ok, bad).toBe(false);
    }
  });

  it('interprets enumerated slots', () => {
    const chr = asciiBytes('UTCUSTODY00001');
    expect(value(parsePkaSlot(chr, 0x9000))).toEqual({
      state: 'registered',
      chr,
      authenticated: false,
    });
    expect(value(parsePkaSlot(chr, 0x9001))).toEqual({
      state: 'registered',
      chr,
      authenticated: true,
    });
    expect(value(parsePkaSlot(new Uint8Array(0), 0x6a88))).toEqual({ state: 'empty' });
    expect(parsePkaSlot(chr, 0x6a86).ok).toBe(false);
    expect(parsePkaSlot(new Uint8Array(0), 0x9000).ok).toBe(false);
  });
});

describe('object list, key generation answer, signature', () => {
  it('parses FIDs from ENUMERATE OBJECTS', () => {
    expect(value(parseObjectList(fromHex('cc00cc01c401ce01')))).toEqual([
      0xcc00, 0xcc01, 0xc401, 0xce01,
    ]);
    expect(value(parseObjectList(new Uint8Array(0)))).toEqual([]);
    expect(parseObjectList(fromHex('cc00cc')).ok).toBe(false);
  });

  it('accepts exactly one 67 TLV as key generation answer', () => {
    const req = encodeTlv(0x67, encodeTlv(0x7f21, fromHex('00')));
    expect(toHex(value(parseGenerateKeyResponse(req)))).toBe(toHex(req));
    expect(parseGenerateKeyResponse(encodeTlv(0x7f21, fromHex('00'))).ok).toBe(false);
    expect(parseGenerateKeyResponse(fromHex(toHex(req) + '00')).ok).toBe(false);
  });

  it('turns the DER answer of SIGN into padded r‖s', () => {
    const plain = fromHex('00' + '11'.repeat(31) + '80' + '22'.repeat(31));
    expect(toHex(value(parseEcdsaSignature(plainToDer(plain), 32)))).toBe(toHex(plain));
    expect(parseEcdsaSignature(fromHex('3000'), 32).ok).toBe(false);
  });
});

describe('PRKD (docs/card-reference.md §2.3)', () => {
  it('round-trips label, id and size', () => {
    const prkd = encodePrkd({ label: 'Custodian Ärger', id: Uint8Array.of(3), size: 256 });
    expect(toHex(prkd.subarray(0, 1))).toBe('a0');
    expect(value(parsePrkd(prkd))).toEqual({
      kind: 'ec',
      label: 'Custodian Ärger',
      id: Uint8Array.of(3),
      size: 256,
    });
  });

  it('parses an SCSH-shaped EC PRKD and RSA/secret variants', () => {
    const scsh = h(`A0 21 30 0A 0C 08 ${toHex(asciiBytes('TestKey1'))} 30 07 04 01 01 03 02 05 20
      A1 0A 30 08 30 02 04 00 02 02 01 00`);
    expect(toHex(encodePrkd({ label: 'TestKey1', id: Uint8Array.of(1), size: 256 }))).toBe(scsh);
    expect(value(parsePrkd(fromHex(scsh)))).toEqual({
      kind: 'ec',
      label: 'TestKey1',
      id: Uint8Array.of(1),
      size: 256,
    });
    const good = encodeTlv(
      0x30,
      encodeTlv(0x30, encodeTlv(0x0c, asciiBytes('rsa'))),
      encodeTlv(0x30, encodeTlv(0x04, Uint8Array.of(9))),
      encodeTlv(
        0xa1,
        encodeTlv(
          0x30,
          encodeTlv(0x30, encodeTlv(0x04, new Uint8Array(0))),
          encodeTlv(0x02, fromHex('0800')),
        ),
      ),
    );
    expect(value(parsePrkd(good))).toEqual({
      kind: 'rsa',
      label: 'rsa',
      id: Uint8Array.of(9),
      size: 2048,
    });
    expect(value(parsePrkd(encodeTlv(0xa8, new Uint8Array(0))))).toEqual({ kind: 'secret' });
    expect(parsePrkd(encodeTlv(0xa2, new Uint8Array(0))).ok).toBe(false);
    expect(parsePrkd(encodeTlv(0xa0, encodeTlv(0x30, encodeTlv(0x0c, fromHex('ff')))))).toEqual({
      ok: true,
      value: { kind: 'ec' },
    });
  });

  it('refuses unusable input when encoding', () => {
    expect(() => encodePrkd({ label: '', id: Uint8Array.of(1), size: 256 })).toThrow(RangeError);
    expect(() => encodePrkd({ label: 'x'.repeat(65), id: Uint8Array.of(1), size: 256 })).toThrow(
      RangeError,
    );
    expect(() => encodePrkd({ label: 'k', id: new Uint8Array(0), size: 256 })).toThrow(RangeError);
    expect(() => encodePrkd({ label: 'k', id: Uint8Array.of(1), size: 0 })).toThrow(RangeError);
  });
});

describe('parsers never throw on arbitrary card answers', () => {
  const bytes = fc.uint8Array({ maxLength: 300 });
  const run = (f: (b: Uint8Array) => unknown) =>
    fc.assert(
      fc.property(bytes, (b) => void f(b)),
      { numRuns: 2000 },
    );

  it('SELECT / 85', () => {
    run(parseSelectResponse);
    run(parseProprietaryInfo);
    run((b) =>
      parseSelectResponse(
        Uint8Array.of(0x62, ...(b.length < 128 ? [b.length] : [0x81, b.length & 0xff]), ...b),
      ),
    );
  });
  it('PKA status / slot', () => {
    run(parsePkaStatus);
    fc.assert(
      fc.property(bytes, fc.integer({ min: 0, max: 0xffff }), (b, sw) => void parsePkaSlot(b, sw)),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (sw) => {
        const r = pinStatusFromSw(sw);
        if (r.ok && r.value.retries !== undefined) expect(r.value.retries).toBeLessThanOrEqual(15);
      }),
    );
  });
  it('objects, PRKD, key generation, signature', () => {
    run(parseObjectList);
    run(parsePrkd);
    run((b) => parsePrkd(encodeTlv(0xa0, b)));
    run(parseGenerateKeyResponse);
    run((b) => parseEcdsaSignature(b, 32));
  });
  it('PRKD round-trips any label and id', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.uint8Array({ minLength: 1, maxLength: 32 }),
        fc.integer({ min: 1, max: 0x7fff }),
        (label, id, size) => {
          const r = value(parsePrkd(encodePrkd({ label, id, size })));
          expect(r).toEqual({ kind: 'ec', label, id, size });
        },
      ),
    );
  });
});
