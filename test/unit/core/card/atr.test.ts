import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  parseAtr,
  parseHistoricalBytes,
  supportsCommandChaining,
  supportsExtendedLength,
} from '../../../../core/card/atr';
import { fromHex, toHex } from '../../../../shared/codec/bytes';
import { SC_HSM_ATR } from '../../../../shared/sc-hsm/constants';

// docs/card-reference.md §1.2
const ATRS = {
  standard: '3BFE1800008131FE45803181544853 4D317380214081 07FA',
  contactless: '3B8E80018031815448534D3173802140810718',
  jcop3: '3BDE18FF8191FE1FC38031815448534D3173802140810 71C',
  jcop3f: '3BDE96FF8191FE1FC38031815448534D31738021408107 92',
};
const hex = (s: string) => fromHex(s.replace(/\s+/g, ''));

describe('parseAtr', () => {
  it('parses the SmartCard-HSM ATRs and finds the card capabilities', () => {
    for (const text of Object.values(ATRS)) {
      const r = parseAtr(hex(text));
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(toHex(r.value.historicalBytes)).toBe('8031815448534d3173802140810' + '7');
      expect(toHex(r.value.cardCapabilities ?? new Uint8Array())).toBe('802140');
      expect(r.value.tck?.valid).toBe(true);
      expect(r.value.protocols).toContain(1);
      expect(r.value.compactTlv.map((o) => o.tag)).toEqual([3, 5, 7, 8]);
    }
  });

  it('agrees with the constant ATR', () => {
    expect(toHex(SC_HSM_ATR)).toBe(toHex(hex(ATRS.standard)));
    expect(supportsExtendedLength(SC_HSM_ATR)).toBe(true);
    expect(supportsCommandChaining(SC_HSM_ATR)).toBe(false);
  });

  it('detects a wrong TCK', () => {
    const bad = hex(ATRS.standard);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
    const r = parseAtr(bad);
    expect(r.ok && r.value.tck?.valid).toBe(false);
  });

  it('parses a T=0-only ATR without TCK', () => {
    // 3B 02 14 50: T0 = 02 (two historical bytes, no interface bytes) — no TCK for T=0.
    const r = parseAtr(hex('3B021450'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.protocols).toEqual([0]);
    expect(r.value.tck).toBeUndefined();
    expect(supportsExtendedLength(hex('3B021450'))).toBe(false);
  });

  it('rejects malformed ATRs with typed errors', () => {
    expect(parseAtr(hex('3B')).ok).toBe(false);
    const wrongTs = parseAtr(hex('3C00'));
    expect(!wrongTs.ok && wrongTs.error.code).toBe('bad-ts');
    const truncated = parseAtr(hex('3BFE180000'));
    expect(!truncated.ok && truncated.error.code).toBe('truncated');
    const trailing = parseAtr(hex('3B0000'));
    expect(!trailing.ok && trailing.error.code).toBe('trailing-bytes');
    // Category 80, then compact TLV 73 that claims 3 bytes but has 1.
    const overrun = parseAtr(hex('3B038073 80'));
    expect(!overrun.ok && overrun.error.code).toBe('bad-historical');
  });

  it('reads the capability bits', () => {
    // T0 = 05: five historical bytes: category 80, card capabilities 73 00 00 xx.
    const both = hex('3B0580730000C0');
    expect(parseAtr(both).ok).toBe(true);
    expect(supportsExtendedLength(both)).toBe(true);
    expect(supportsCommandChaining(both)).toBe(true);
    expect(supportsExtendedLength(hex('3B058073000080'))).toBe(false);
    expect(supportsCommandChaining(hex('3B058073000040'))).toBe(false);
    // Malformed (T0 claims 4 historical bytes, 5 follow) → false, never a throw.
    expect(supportsExtendedLength(hex('3B0480730000C0'))).toBe(false);
  });

  it('handles category 00 with a status indicator', () => {
    const r = parseHistoricalBytes(hex('00 31 81 00 90 00'));
    expect(r.ok && r.value).toEqual([{ tag: 3, value: hex('81') }]);
    expect(parseHistoricalBytes(hex('00 90 00')).ok).toBe(false);
    expect(parseHistoricalBytes(hex('10 11')).ok && true).toBe(true);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const r = parseAtr(bytes);
        expect(typeof r.ok).toBe('boolean');
        expect(typeof supportsExtendedLength(bytes)).toBe('boolean');
      }),
    );
  });
});
