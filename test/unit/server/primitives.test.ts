import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../../server/net/limiter';
import { Mutex } from '../../../server/targets/mutex';

describe('Mutex', () => {
  it('runs operations one at a time in order, also after a failure', async () => {
    const m = new Mutex();
    const log: string[] = [];
    const op = (name: string, ms: number, fail = false) =>
      m.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([op('a', 20), op('b', 1, true), op('c', 1)]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(m.pending).toBe(0);
  });
});

describe('FailureLimiter', () => {
  it('blocks a key after max failures within the window and forgets old ones', () => {
    let now = 0;
    const l = new FailureLimiter(3, 1000, () => now);
    for (let i = 0; i < 2; i++) l.fail('ip');
    expect(l.blocked('ip')).toBe(false);
    l.fail('ip');
    expect(l.blocked('ip')).toBe(true);
    expect(l.blocked('other')).toBe(false);
    now = 1001;
    expect(l.blocked('ip')).toBe(false);
  });
});
