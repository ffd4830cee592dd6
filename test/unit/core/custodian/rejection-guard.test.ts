import { describe, expect, it } from 'vitest';
import {
  createRejectionGuard,
  REJECTION_AUDIT_LIMIT,
  REJECTION_WINDOW_MS,
  SUSPICIOUS_REFUSALS,
} from '../../../../core/custodian/rejection-guard';

describe('issue 7 item 8: rejection flood guard', () => {
  it('7.8 audits the first rejections, aggregates the rest exactly, flags a flood', () => {
    let now = 1_000_000;
    const g = createRejectionGuard(() => now);
    const verdicts: string[] = [];
    for (let i = 0; i < SUSPICIOUS_REFUSALS; i++) {
      now += 10;
      verdicts.push(g.note(i % 2 === 0 ? 'script-refused' : 'expired', i % 2 === 0 ? 2 : 0));
    }
    expect(verdicts.slice(0, REJECTION_AUDIT_LIMIT).every((v) => v === 'audit')).toBe(true);
    expect(
      verdicts
        .slice(REJECTION_AUDIT_LIMIT, SUSPICIOUS_REFUSALS - 1)
        .every((v) => v === 'aggregate'),
    ).toBe(true);
    expect(verdicts.at(-1)).toBe('suspicious');
    const s = g.takeSummary();
    const aggregated = SUSPICIOUS_REFUSALS - REJECTION_AUDIT_LIMIT;
    expect(s?.count).toBe(aggregated);
    expect(s?.byCode).toEqual({ 'script-refused': aggregated / 2, expired: aggregated / 2 });
    expect(s?.blockedCommands).toBe(aggregated);
    expect(s?.from).toBe(new Date(1_000_000 + 10 * (REJECTION_AUDIT_LIMIT + 1)).toISOString());
    expect(s?.to).toBe(new Date(now).toISOString());
    expect(g.takeSummary()).toBeUndefined();
  });

  it('7.8 a slow trickle of rejections stays individually audited (sliding window)', () => {
    let now = 0;
    const g = createRejectionGuard(() => now);
    const step = REJECTION_WINDOW_MS / REJECTION_AUDIT_LIMIT;
    for (let i = 0; i < 500; i++) {
      now += step;
      expect(g.note('expired', 0)).toBe('audit');
    }
    expect(g.takeSummary()).toBeUndefined();
  });

  it('7.8 after a quiet window, rejections are audited individually again', () => {
    let now = 0;
    const g = createRejectionGuard(() => now);
    for (let i = 0; i <= REJECTION_AUDIT_LIMIT; i++) g.note('expired', 0);
    expect(g.takeSummary()?.count).toBe(1);
    now += REJECTION_WINDOW_MS;
    expect(g.note('expired', 0)).toBe('audit');
  });
});
