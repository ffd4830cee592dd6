/**
 * Issue 12 §3 at small scale, through the load stage's own machinery (test/bench/load.ts): real
 * custodian engines in a child process approve at once at several targets; every card's count
 * must equal the approvals stored, the audit entries and the results the custodians received.
 */
import { describe, expect, it } from 'vitest';
import { runLoadStage } from '../../bench/load';

describe('many custodians approving at once', () => {
  it('loses and double counts no approval across targets', async () => {
    const r = await runLoadStage({ shape: { targets: 3, m: 5, n: 3 }, engineProcesses: 1 });
    const row = (m: RegExp) => r.rows.find((x) => m.test(x.measure))!;
    const lost = row(/lost or double counted/);
    expect(lost.result, lost.notes).toBe('0');
    expect(lost.status).toBe('met');
    expect(row(/quorum, p99/).result).toMatch(/^\d+(\.\d+)? m?s$/);
    const m = /(\d+) store commits for (\d+) decisions$/.exec(row(/CPU per decision/).notes ?? '');
    expect(Number(m?.[2])).toBe(15); // every custodian's decision was sent and answered
  }, 240_000);
});
