import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../../server/store/db';
import {
  hashSecret,
  isWellFormedSecret,
  newSecret,
  secretsEqual,
} from '../../../server/store/secrets';
import { openStore } from '../../../server/store/store';

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'store-')), 'custodian.db');

function seed(path: string) {
  const s = openStore(path);
  s.custodians.insert({
    id: 'cus-1',
    name: 'alice',
    target: 't1',
    keyChr: 'UTCUST0000100001',
    keyId: 3,
    pka: Uint8Array.of(0x30, 0x00),
    credentialHash: hashSecret('x'.repeat(43)),
    enrolledAt: '2026-01-01T00:00:00.000Z',
  });
  s.ceremonies.insert({
    id: 'cer-1',
    target: 't1',
    purpose: 'p',
    requester: 'r',
    state: 'open',
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T01:00:00.000Z',
    n: 2,
    m: 3,
    deviceId: 'UTDEV0000100001',
    challenge: '0102030405060708',
  });
  return s;
}

describe('store', () => {
  it('survives a restart: custodians, ceremonies, approvals and the audit chain', () => {
    const path = dbPath();
    const s = seed(path);
    expect(
      s.ceremonies.recordApproval({
        ceremonyId: 'cer-1',
        custodianId: 'cus-1',
        epoch: 1,
        outcome: 'approved',
        sw: '9000',
        time: 't',
      }),
    ).toBe(true);
    s.audit.append('server-start', { a: 1 });
    s.audit.append('quorum', { ceremonyId: 'cer-1' });
    s.close();
    const r = openStore(path);
    expect(r.custodians.byCredentialHash(hashSecret('x'.repeat(43)))?.name).toBe('alice');
    expect(r.custodians.get('cus-1')).toMatchObject({
      keyId: 3,
      hasCredential: true,
      pka: Uint8Array.of(0x30, 0),
    });
    expect(r.ceremonies.active().map((c) => c.id)).toEqual(['cer-1']);
    expect(r.ceremonies.approvals('cer-1')).toHaveLength(1);
    expect(r.audit.verify()).toMatchObject({ ok: true, value: { entries: 2 } });
    r.close();
  });

  it('counts a custodian once per epoch; a new epoch starts clean', () => {
    const s = seed(':memory:');
    const a = {
      ceremonyId: 'cer-1',
      custodianId: 'cus-1',
      outcome: 'approved' as const,
      sw: '9000',
      time: 't',
    };
    expect(s.ceremonies.recordApproval({ ...a, epoch: 1 })).toBe(true);
    expect(s.ceremonies.recordApproval({ ...a, epoch: 1, outcome: 'declined' })).toBe(false);
    expect(s.ceremonies.newEpoch('cer-1', 'aa'.repeat(8))).toBe(2);
    expect(s.ceremonies.approvals('cer-1', 2)).toEqual([]);
    expect(s.ceremonies.recordApproval({ ...a, epoch: 2 })).toBe(true);
    s.ceremonies.setState('cer-1', 'expired', 'now', 'late');
    expect(s.ceremonies.get('cer-1')).toMatchObject({
      state: 'expired',
      challenge: undefined,
      reason: 'late',
    });
    expect(s.ceremonies.active()).toEqual([]);
  });

  it('refuses a duplicate key CHR or name at the same target', () => {
    const s = seed(':memory:');
    const c = {
      id: 'cus-2',
      name: 'bob',
      target: 't1',
      keyChr: 'UTCUST0000100001',
      pka: new Uint8Array(1),
      enrolledAt: 'x',
    };
    expect(() => s.custodians.insert(c)).toThrow();
    expect(() => s.custodians.insert({ ...c, keyChr: 'OTHER', name: 'alice' })).toThrow();
    s.custodians.insert({ ...c, target: 't2' });
  });

  it('uses an enrollment token once', () => {
    const s = openStore(':memory:');
    s.enrollments.insert({
      tokenHash: 'h',
      target: 't1',
      name: 'a',
      createdAt: 'a',
      expiresAt: '9999',
    });
    expect(s.enrollments.markUsed('h', 'now')).toBe(true);
    expect(s.enrollments.markUsed('h', 'later')).toBe(false);
    expect(s.enrollments.get('h')?.usedAt).toBe('now');
  });

  it('detects an edited or removed audit row', () => {
    const path = dbPath();
    const s = openStore(path);
    for (let i = 0; i < 5; i++) s.audit.append('approval', { i });
    s.close();
    const raw = new Database(path);
    raw.prepare('UPDATE audit SET data = \'{"i":9}\' WHERE seq = 3').run();
    raw.close();
    const r = openStore(path);
    const v = r.audit.verify();
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error.seq).toBe(3);
    r.close();
    const raw2 = new Database(path);
    raw2.prepare('UPDATE audit SET data = \'{"i":2}\' WHERE seq = 3').run();
    raw2.prepare('DELETE FROM audit WHERE seq = 2').run();
    raw2.close();
    const r2 = openStore(path);
    expect(r2.audit.verify().ok).toBe(false);
    r2.close();
  });

  it('refuses a database from a newer schema', () => {
    const path = dbPath();
    openStore(path).close();
    const raw = new Database(path);
    raw.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    raw.close();
    expect(() => openStore(path)).toThrow(/schema version/);
  });

  it('secrets: 256-bit base64url, stored hashed, compared in constant time', () => {
    const a = newSecret();
    expect(isWellFormedSecret(a)).toBe(true);
    expect(newSecret()).not.toBe(a);
    expect(hashSecret(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(secretsEqual(a, a)).toBe(true);
    expect(secretsEqual(a, newSecret())).toBe(false);
    expect(isWellFormedSecret('short')).toBe(false);
  });
});
