/**
 * The store half of issue 7 item 1: a token is consumed by one statement, so two connections
 * racing with it cannot both get it, even from two database handles; and the durable
 * inconsistency record survives a restart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../server/store/store';

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'store-')), 'custodian.db');

describe('enrollment token reservation (7.1)', () => {
  it('7.1 exactly one reservation wins, across database handles; release only undoes its own', () => {
    const path = dbPath();
    const a = openStore(path);
    const b = openStore(path);
    a.enrollments.insert({
      tokenHash: 'h1',
      target: 't1',
      name: 'alice',
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-02T00:00:00.000Z',
    });
    const at = '2026-01-01T01:00:00.000Z';
    expect(a.enrollments.reserve('h1', at)).toBe('reserved');
    expect(b.enrollments.reserve('h1', '2026-01-01T01:00:00.001Z')).toBe('used');
    // A release by someone else's timestamp does nothing.
    b.enrollments.release('h1', '2026-01-01T01:00:00.001Z');
    expect(b.enrollments.reserve('h1', '2026-01-01T01:00:00.002Z')).toBe('used');
    a.enrollments.release('h1', at);
    expect(b.enrollments.reserve('h1', '2026-01-01T01:00:00.003Z')).toBe('reserved');
    expect(a.enrollments.reserve('nope', at)).toBe('unknown');
    a.enrollments.insert({
      tokenHash: 'h2',
      target: 't1',
      name: 'bob',
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-01T00:30:00.000Z',
    });
    expect(a.enrollments.reserve('h2', at)).toBe('expired');
    a.close();
    b.close();
  });

  it('7.1 an inconsistency record is durable', () => {
    const path = dbPath();
    const a = openStore(path);
    a.consistency.set({
      target: 't1',
      state: 'inconsistent',
      detail: 'lost answer',
      since: '2026-01-01T00:00:00.000Z',
      registeredOnCard: 3,
      knownToServer: 2,
      unknownKeys: ['UTCUST0000100009'],
    });
    a.close();
    const b = openStore(path);
    expect(b.consistency.get('t1')).toMatchObject({
      state: 'inconsistent',
      registeredOnCard: 3,
      knownToServer: 2,
      unknownKeys: ['UTCUST0000100009'],
    });
    b.consistency.clear('t1');
    expect(b.consistency.get('t1')).toBeUndefined();
    b.close();
  });
});
