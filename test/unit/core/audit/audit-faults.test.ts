import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditLog, verifyAuditLog } from '../../../../core/audit/audit-log';
import { faultyFs, type Faults } from './fault-fs';

// Issue 7 "Also": an append that hits a short write or a full disk must not leave a broken
// line that stops the next start. The failed append is an error; nothing else is lost.

const fresh = () => join(mkdtempSync(join(tmpdir(), 'audit-faults-')), 'audit.jsonl');

function setup(faults: Faults) {
  const path = fresh();
  const log = openAuditLog(path, () => new Date('2026-11-27T00:00:00Z'), {
    fs: faultyFs(path, faults),
  });
  log.append('approval', { ceremonyId: 'c1' });
  log.append('apdu-forwarded', { header: '80 68 01 73', sw: '9000' });
  return { path, log, before: readFileSync(path) };
}

const entries = (path: string) => {
  const v = verifyAuditLog(path);
  if (!v.ok) throw new Error(v.error.message);
  return v.value.entries;
};

describe('issue 7 "Also": audit appends survive short writes and a full disk', () => {
  it('7.also short writes are completed, not left as a partial line', () => {
    const faults: Faults = { maxWrite: 7 };
    const { path, log } = setup(faults);
    for (let i = 0; i < 5; i++) log.append('apdu-forwarded', { i, text: 'x'.repeat(100 + i) });
    log.close();
    expect(entries(path)).toBe(7);
    expect(() => openAuditLog(path).close()).not.toThrow();
  });

  it('7.also a full disk mid-line: the append fails, the log is cut back, the next one works', () => {
    const faults: Faults = {};
    const { path, log, before } = setup(faults);
    faults.spaceLeft = 40;
    expect(() => log.append('decline', { ceremonyId: 'c2', reason: 'user' })).toThrow(
      /append failed, entry not recorded: ENOSPC/,
    );
    expect(readFileSync(path)).toEqual(before);
    // Space again: the log goes on, with nothing but the failed entry missing.
    delete faults.spaceLeft;
    const e = log.append('decline', { ceremonyId: 'c2', reason: 'user' });
    expect(e.seq).toBe(3);
    log.close();
    expect(entries(path)).toBe(3);
    const reopened = openAuditLog(path);
    expect(reopened.head?.seq).toBe(3);
    expect(reopened.recovered).toBeUndefined();
    reopened.close();
  });

  it('7.also a full disk at the first byte, an I/O error at fsync, a write making no progress', () => {
    for (const inject of [
      { spaceLeft: 0 },
      { fsyncError: 'EIO' },
      { fsyncError: 'ENOSPC' },
      { zeroWrite: true },
    ] as Faults[]) {
      const faults: Faults = {};
      const { path, log, before } = setup(faults);
      Object.assign(faults, inject);
      expect(() => log.append('decline', { ceremonyId: 'c2' }), JSON.stringify(inject)).toThrow(
        /append failed/,
      );
      expect(readFileSync(path)).toEqual(before);
      log.close();
      expect(entries(path)).toBe(2);
    }
  });

  it('7.also when cutting back fails too, the log refuses more and the next start recovers', () => {
    const faults: Faults = {};
    const { path, log } = setup(faults);
    Object.assign(faults, { spaceLeft: 25, truncateError: 'EIO' });
    expect(() => log.append('decline', { ceremonyId: 'c2' })).toThrow(/next start recovers/);
    expect(() => log.append('decline', { ceremonyId: 'c3' })).toThrow(/unusable/);
    log.close();
    // The partial line is on disk; the next start moves it aside and goes on.
    const next = openAuditLog(path);
    expect(next.recovered?.bytes).toBe(25);
    expect(next.head?.kind).toBe('log-recovered');
    next.close();
    expect(entries(path)).toBe(3);
    const torn = readdirSync(dirname(path)).filter((f) => f.includes('.torn-'));
    expect(torn).toHaveLength(1);
  });
});
