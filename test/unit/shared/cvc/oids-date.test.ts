import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../../shared/codec/bytes';
import {
  compareCvcDate,
  cvcDateFromDate,
  decodeCvcDate,
  encodeCvcDate,
  formatCvcDate,
} from '../../../../shared/cvc/date';
import {
  ID_TA_ECDSA_SHA_1,
  ID_TA_ECDSA_SHA_256,
  ID_TA_ECDSA_SHA_512,
  ID_TA_RSA_V1_5_SHA_256,
  OID_CC_PKA_FILE_FORMAT,
  OID_CC_ROLE_SC_HSM,
  hashForAlgorithmOid,
  oidFromString,
  oidToString,
} from '../../../../shared/cvc/oids';

describe('OIDs (docs/card-reference.md §4.3)', () => {
  it('constants have the documented bytes and dotted forms', () => {
    expect(toHex(ID_TA_ECDSA_SHA_256)).toBe('04007f00070202020203');
    expect(oidToString(ID_TA_ECDSA_SHA_256)).toBe('0.4.0.127.0.7.2.2.2.2.3');
    expect(toHex(OID_CC_ROLE_SC_HSM)).toBe('2b0601040181c31f030101');
    expect(oidToString(OID_CC_ROLE_SC_HSM)).toBe('1.3.6.1.4.1.24991.3.1.1');
    expect(oidToString(OID_CC_PKA_FILE_FORMAT)).toBe('1.3.6.1.4.1.24991.4.3.1');
    expect(oidToString(ID_TA_RSA_V1_5_SHA_256)).toBe('0.4.0.127.0.7.2.2.2.1.2');
  });

  it('maps algorithm OIDs to hashes', () => {
    expect(hashForAlgorithmOid(ID_TA_ECDSA_SHA_1)).toBe('sha1');
    expect(hashForAlgorithmOid(ID_TA_ECDSA_SHA_256)).toBe('sha256');
    expect(hashForAlgorithmOid(ID_TA_ECDSA_SHA_512)).toBe('sha512');
    expect(hashForAlgorithmOid(ID_TA_RSA_V1_5_SHA_256)).toBe('sha256');
    expect(hashForAlgorithmOid(OID_CC_ROLE_SC_HSM)).toBeUndefined();
    expect(hashForAlgorithmOid(ID_TA_ECDSA_SHA_256.subarray(1))).toBeUndefined();
  });

  it('oidFromString inverts oidToString, including large and 2.x arcs', () => {
    for (const s of [
      '1.3.6.1.4.1.24991.4.3.1',
      '0.4.0.127.0.7.2.2.2.2.3',
      '2.999.1',
      '1.2.840.10045.3.1.7',
    ]) {
      expect(oidToString(oidFromString(s))).toBe(s);
    }
    expect(toHex(oidFromString('2.999.1'))).toBe('883701');
  });

  it('rejects malformed OIDs', () => {
    for (const s of ['', '1', '3.1', '1.40', '1.2.03', '1..2', 'a.b']) {
      expect(() => oidFromString(s)).toThrow();
    }
    expect(oidToString(new Uint8Array(0))).toBe('?');
    expect(oidToString(fromHex('2b86'))).toBe('?2b86'); // truncated arc
    expect(oidToString(fromHex('2b8001'))).toBe('?2b8001'); // non-minimal arc
  });

  it('fuzz: oidToString never throws, and valid output round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (b) => {
        const s = oidToString(b);
        return s.startsWith('?') || toHex(oidFromString(s)) === toHex(b);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('CVC dates (docs/card-reference.md §4.1)', () => {
  it('decodes the documented example 01 02 01 01 00 09 = 2012-11-09', () => {
    const d = decodeCvcDate(fromHex('010201010009'));
    expect(d).toEqual({ ok: true, value: { year: 2012, month: 11, day: 9 } });
    if (d.ok) expect(formatCvcDate(d.value)).toBe('2012-11-09');
    expect(toHex(encodeCvcDate({ year: 2032, month: 11, day: 8 }))).toBe('030201010008');
  });

  it.each([
    ['non-digit', '01020101000a'],
    ['month 13', '010201030001'],
    ['month 0', '010200000001'],
    ['day 0', '010201010000'],
    ['Feb 30', '010300020300'],
    ['Feb 29 in a non-leap year', '010300020209'],
    ['5 bytes', '0102010100'],
  ])('rejects %s', (_n, hex) => {
    expect(decodeCvcDate(fromHex(hex)).ok).toBe(false);
  });

  it('accepts Feb 29 in a leap year and compares dates', () => {
    expect(decodeCvcDate(fromHex('020400020209')).ok).toBe(true);
    const a = { year: 2024, month: 2, day: 29 };
    expect(compareCvcDate(a, { year: 2024, month: 3, day: 1 })).toBeLessThan(0);
    expect(compareCvcDate(a, { ...a })).toBe(0);
    expect(compareCvcDate(a, { year: 2023, month: 12, day: 31 })).toBeGreaterThan(0);
    expect(cvcDateFromDate(new Date('2024-02-29T23:59:59Z'))).toEqual(a);
  });

  it('encode refuses dates it cannot represent', () => {
    expect(() => encodeCvcDate({ year: 1999, month: 1, day: 1 })).toThrow();
    expect(() => encodeCvcDate({ year: 2100, month: 1, day: 1 })).toThrow();
    expect(() => encodeCvcDate({ year: 2023, month: 2, day: 29 })).toThrow();
  });

  it('property: encode/decode round trip', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2099-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (dt) => {
          const d = cvcDateFromDate(dt);
          const back = decodeCvcDate(encodeCvcDate(d));
          return back.ok && compareCvcDate(back.value, d) === 0;
        },
      ),
    );
  });
});
