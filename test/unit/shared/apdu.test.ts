import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  command,
  decodeCommandApdu,
  decodeResponseApdu,
  encodeCommandApdu,
  encodeResponseApdu,
} from '../../../shared/codec/apdu';
import { fromHex, toHex } from '../../../shared/codec/bytes';
import { describeSw, retriesFromSw } from '../../../shared/card/status-words';

const enc = (c: Parameters<typeof encodeCommandApdu>[0], o = {}) => {
  const r = encodeCommandApdu(c, o);
  if (!r.ok) throw new Error(r.error.message);
  return toHex(r.value);
};

describe('APDU', () => {
  it('encodes the four cases, short and extended', () => {
    expect(enc(command(0x00, 0x20, 0x00, 0x81))).toBe('00200081');
    expect(enc(command(0x00, 0x84, 0, 0, undefined, 8))).toBe('0084000008');
    expect(enc(command(0x80, 0x54, 0, 0, undefined, 256))).toBe('8054000000');
    expect(enc(command(0x00, 0x20, 0, 0x81, fromHex('313233343536')))).toBe(
      '0020008106313233343536',
    );
    expect(enc(command(0x80, 0x68, 1, 0x73, fromHex('aabb'), 256))).toBe('80680173' + '02aabb00');
    expect(enc(command(0x80, 0x58, 0, 0, undefined, 65536))).toBe('80580000000000');
    expect(enc(command(0x00, 0xb1, 0x2f, 0x02, fromHex('54020000'), 65536))).toBe(
      '00b12f02' + '00000454020000' + '0000',
    );
    expect(enc(command(0x00, 0x84, 0, 0, undefined, 8), { forceExtended: true })).toBe(
      '00840000000008',
    );
    const big = new Uint8Array(300);
    expect(enc(command(0x80, 0x54, 0, 0, big)).slice(8, 14)).toBe('00012c');
  });

  it('rejects out-of-range fields', () => {
    expect(
      encodeCommandApdu({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(0), ne: 0 }).ok,
    ).toBe(false);
    expect(encodeCommandApdu({ cla: 256, ins: 0, p1: 0, p2: 0, data: new Uint8Array(0) }).ok).toBe(
      false,
    );
    expect(() => command(0, 0, 0, 300)).toThrow();
  });

  it('decodes every case and rejects inconsistent lengths', () => {
    expect(decodeCommandApdu(fromHex('0020008106313233343536'))).toMatchObject({
      ok: true,
      value: { case: 3 },
    });
    expect(decodeCommandApdu(fromHex('00840000000008'))).toMatchObject({
      ok: true,
      value: { case: 2, ne: 8, extended: true },
    });
    expect(decodeCommandApdu(fromHex('80580000000000'))).toMatchObject({
      ok: true,
      value: { ne: 65536 },
    });
    expect(decodeCommandApdu(fromHex('002000'))).toMatchObject({
      ok: false,
      error: { code: 'too-short' },
    });
    expect(decodeCommandApdu(fromHex('0020008106313233'))).toMatchObject({
      ok: false,
      error: { code: 'bad-length' },
    });
    expect(decodeCommandApdu(fromHex('002000810000'))).toMatchObject({ ok: false });
    expect(decodeCommandApdu(fromHex('00200081000000aa'))).toMatchObject({ ok: false });
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          cla: fc.integer({ min: 0, max: 255 }),
          ins: fc.integer({ min: 0, max: 255 }),
          p1: fc.integer({ min: 0, max: 255 }),
          p2: fc.integer({ min: 0, max: 255 }),
          data: fc.uint8Array({ maxLength: 600 }),
          ne: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
        }),
        fc.boolean(),
        (c, forceExtended) => {
          const cmd = c.ne === undefined ? { ...c, ne: undefined } : c;
          const bytes = encodeCommandApdu(cmd as never, { forceExtended });
          expect(bytes.ok).toBe(true);
          if (!bytes.ok) return;
          const back = decodeCommandApdu(bytes.value);
          expect(back.ok).toBe(true);
          if (!back.ok) return;
          expect(toHex(back.value.data)).toBe(toHex(c.data));
          expect(back.value.ne).toBe(c.ne);
          expect([back.value.cla, back.value.ins, back.value.p1, back.value.p2]).toEqual([
            c.cla,
            c.ins,
            c.p1,
            c.p2,
          ]);
        },
      ),
    );
  });

  it('never throws on random input (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void decodeCommandApdu(b)),
      { numRuns: 5000 },
    );
  });

  it('handles responses and status words', () => {
    const r = decodeResponseApdu(fromHex('01020304' + '9000'));
    expect(r.ok && r.value.sw).toBe(0x9000);
    expect(toHex(encodeResponseApdu({ data: fromHex('aa'), sw: 0x63c2 }))).toBe('aa63c2');
    expect(decodeResponseApdu(fromHex('90')).ok).toBe(false);
    expect(retriesFromSw(0x63c2)).toBe(2);
    expect(describeSw(0x6a88)).toBe('6A88 referenced data not found');
    expect(describeSw(0x63c1)).toContain('1 tries left');
  });
});
