import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeTlv,
  decodeTlvAt,
  decodeTlvList,
  encodeTlv,
  encodeLength,
} from '../../../shared/codec/tlv';
import { fromHex, toHex } from '../../../shared/codec/bytes';

describe('BER-TLV', () => {
  it('decodes multi-byte tags and long lengths', () => {
    const v = new Uint8Array(300).fill(7);
    const enc = encodeTlv(0x7f21, v);
    expect(toHex(enc.subarray(0, 5))).toBe('7f2182012c');
    const r = decodeTlv(enc);
    expect(r.ok && r.value.tag).toBe(0x7f21);
    expect(r.ok && r.value.value.length).toBe(300);
    expect(r.ok && r.value.raw.length).toBe(enc.length);
  });

  it('rejects truncation, trailing data, indefinite and non-minimal lengths', () => {
    expect(decodeTlv(fromHex('5f2003aabb'))).toMatchObject({
      ok: false,
      error: { code: 'truncated' },
    });
    expect(decodeTlv(fromHex('5f2001aabb'))).toMatchObject({
      ok: false,
      error: { code: 'trailing-data' },
    });
    expect(decodeTlv(fromHex('308000'))).toMatchObject({
      ok: false,
      error: { code: 'indefinite-length' },
    });
    expect(decodeTlv(fromHex('048101aa'))).toMatchObject({
      ok: false,
      error: { code: 'non-minimal-length' },
    });
    expect(decodeTlv(fromHex('04820080' + '00'.repeat(128)))).toMatchObject({
      ok: false,
      error: { code: 'non-minimal-length' },
    });
    expect(decodeTlv(fromHex('048101aa'), { allowNonMinimalLength: true }).ok).toBe(true);
    expect(decodeTlv(fromHex('1f'))).toMatchObject({ ok: false, error: { code: 'truncated' } });
    expect(decodeTlv(fromHex('00'))).toMatchObject({ ok: false, error: { code: 'bad-tag' } });
    expect(decodeTlv(fromHex('0485ffffffffff'))).toMatchObject({
      ok: false,
      error: { code: 'length-too-large' },
    });
  });

  it('decodes lists and offsets', () => {
    const r = decodeTlvList(fromHex('8001aa820200bb'));
    expect(r.ok && r.value.map((t) => [t.tag, toHex(t.value), t.start])).toEqual([
      [0x80, 'aa', 0],
      [0x82, '00bb', 3],
    ]);
    const at = decodeTlvAt(fromHex('ff8001aa'), 1);
    expect(at.ok && at.value.end).toBe(4);
  });

  it('round-trips arbitrary tags and values (property)', () => {
    const tagArb = fc.oneof(
      fc.integer({ min: 1, max: 0x1e }).map((t) => t | 0x80),
      fc
        .integer({ min: 0, max: 0x7f })
        .map((t) => 0x5f00 | t)
        .filter((t) => t >= 0x5f1f),
      fc.constantFrom(0x7f21, 0x7f4e, 0x7f49, 0x5f37),
    );
    fc.assert(
      fc.property(tagArb, fc.uint8Array({ maxLength: 1000 }), (tag, value) => {
        const r = decodeTlv(encodeTlv(tag, value));
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.value.tag).toBe(tag);
          expect(toHex(r.value.value)).toBe(toHex(value));
        }
      }),
    );
  });

  it('never throws on random input (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodeTlvList(bytes);
        decodeTlvList(bytes, { allowNonMinimalLength: true });
      }),
      { numRuns: 5000 },
    );
  });

  it('encodes lengths minimally', () => {
    expect(toHex(encodeLength(0x7f))).toBe('7f');
    expect(toHex(encodeLength(0x80))).toBe('8180');
    expect(toHex(encodeLength(0x100))).toBe('820100');
  });
});
