import { describe, expect, it } from 'vitest';
import { FIREWALL_RULES } from '../../../shared/policy/firewall-rules';
import { plainReason, ruleName } from '../../../renderer/rule-names';
import {
  auditKindText,
  ceremonyStatusText,
  chainText,
  formatRemaining,
  groupFingerprint,
  pinText,
  spacedHex,
  swHex,
} from '../../../renderer/format';

describe('formatting', () => {
  it('formats the time left', () => {
    expect(formatRemaining(0)).toBe('expired');
    expect(formatRemaining(-5)).toBe('expired');
    expect(formatRemaining(Number.NaN)).toBe('expired');
    expect(formatRemaining(42_000)).toBe('42 s');
    expect(formatRemaining(41 * 60_000 + 5_000)).toBe('41 min 05 s');
    expect(formatRemaining(3 * 3_600_000 + 9 * 60_000)).toBe('3 h 09 min');
    expect(formatRemaining(26 * 3_600_000)).toBe('1 day 2 h');
  });

  it('formats bytes and status words', () => {
    expect(swHex(0x9000)).toBe('9000');
    expect(swHex(0x63c1)).toBe('63C1');
    expect(spacedHex('00A4040C')).toBe('00 A4 04 0C');
    expect(spacedHex('00'.repeat(30), 4)).toBe('00 00 00 00 … (30 bytes)');
    expect(groupFingerprint('ABCDEF0123')).toBe('ABCD EF01 23');
  });

  it('warns in words at the last PIN try and for untrusted chains', () => {
    expect(pinText({ state: 'not-verified', retries: 1 })).toEqual({
      text: 'Set — last try left',
      tone: 'danger',
    });
    expect(pinText({ state: 'not-verified', retries: 3 }).tone).toBe('good');
    expect(pinText({ state: 'blocked', retries: 0 }).tone).toBe('danger');
    expect(chainText({ status: 'genuine', anchor: 'DESRCACC100001' }).text).toContain(
      'DESRCACC100001',
    );
    for (const status of ['test', 'untrusted', 'invalid'] as const)
      expect(chainText({ status }).tone).toBe('danger');
    expect(ceremonyStatusText('waiting').tone).toBe('attention');
  });

  it('names audit kinds in words and keeps unknown ones', () => {
    expect(auditKindText('apdu-blocked')).toBe('APDU blocked');
    expect(auditKindText('pin-failed')).toBe('Wrong PIN');
    expect(auditKindText('future-kind')).toBe('future-kind');
    // 7.8: the flood guard's entries are named in words too.
    expect(auditKindText('offers-rejected-summary')).toBe('Requests refused (summary)');
    expect(auditKindText('server-suspicious')).toBe('Server suspicious');
  });
});

describe('trace rule names', () => {
  it('every firewall rule has a plain name; reasons lose "§" citations', () => {
    for (const rule of FIREWALL_RULES) {
      expect(ruleName(rule.id), rule.id).not.toBe(rule.id);
      expect(ruleName(rule.id)).not.toMatch(/§/);
    }
    expect(ruleName('something-new')).toBe('something-new');
    expect(
      plainReason('INITIALIZE DEVICE would wipe the card (docs/card-reference.md §12.2)'),
    ).toBe('INITIALIZE DEVICE would wipe the card');
    expect(plainReason('not allowed, see §8.1, §12.1')).toBe('not allowed, see');
    expect(plainReason('plain words')).toBe('plain words');
  });
});
