/**
 * Issue 11 item 7: `custodian-server backup` takes a consistent online backup while the server
 * serves and writes (a plain copy of custodian.db misses what is still in the WAL); `restore`
 * verifies a backup before installing it, refuses while a server runs, and keeps the replaced
 * database. A damaged schema (two version rows) is refused, never rewritten.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import { main } from '../../../server/cli/main';
import { openStore } from '../../../server/store/store';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  type ScriptedCustodian,
  type TargetHandle,
} from './harness';

let server: RunningServer | undefined;
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, {}, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const hashes = (path: string): string[] => {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare('SELECT hash FROM audit ORDER BY seq').all() as { hash: string }[];
  db.close();
  return rows.map((r) => r.hash);
};

describe('11.7 backup and restore', () => {
  it('11.7 backup while serving under writes; restore installs it; chain verifies; rows present', async () => {
    const target: TargetHandle = { card: await targetCard(3, 2), opens: 0, fail: false };
    const dir = dataDir();
    const data = join(dir.dir, 'data');
    const live = join(data, 'custodian.db');
    server = await startTestServer(target, dir);
    for (const name of ['alice', 'bob', 'carol']) {
      clients.push(await enroll(server, await custodianCard(), name));
    }
    // Writes keep coming while the backup is taken.
    let writing = true;
    let written = 0;
    const s = server;
    const writer = (async () => {
      while (writing) {
        const r = await adminApi(s, 'POST', '/api/enrollments', {
          target: 't1',
          name: `x${written}`,
        });
        expect(r.status).toBe(201);
        written++;
      }
    })();
    while (written < 5) await new Promise((r) => setTimeout(r, 10));
    // The newest rows live in the WAL now, not in custodian.db itself.
    expect(statSync(`${live}-wal`).size).toBeGreaterThan(0);
    const before = s.store.audit.verify();
    const out = join(mkdtempSync(join(tmpdir(), 'backup-')), 'custodian.backup');
    const b = await cli(['backup', '--data-dir', data, '--out', out]);
    const afterCount = written;
    while (written < afterCount + 5) await new Promise((r) => setTimeout(r, 10));
    writing = false;
    await writer;
    expect(b.err).toBe('');
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/3 custodian\(s\).*chain verified/);
    // Everything committed before the backup is in it, as an exact prefix of the live chain.
    const backed = hashes(out);
    expect(before.ok).toBe(true);
    if (before.ok) expect(backed.length).toBeGreaterThanOrEqual(before.value.entries);
    const liveHashes = hashes(live);
    expect(liveHashes.length).toBeGreaterThan(backed.length);
    expect(liveHashes.slice(0, backed.length)).toEqual(backed);
    expect(existsSync(`${out}-wal`)).toBe(false);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    // A backup never overwrites a file.
    expect((await cli(['backup', '--data-dir', data, '--out', out])).code).toBe(2);

    // Restore is refused while the server runs.
    const refused = await cli(['restore', '--data-dir', data, '--from', out]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/is using .*stop it before restoring/);
    expect(hashes(live)).toEqual(liveHashes);

    await server.stop();
    server = undefined;
    const r = await cli(['restore', '--data-dir', data, '--from', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kept as .*custodian\.db\.replaced-/);
    const kept = /kept as (\S+)/.exec(r.out)![1]!;
    expect(hashes(kept)).toEqual(liveHashes);
    expect(hashes(live)).toEqual(backed);

    // The restored database serves: chain verifies, custodians present, new entries chain on.
    server = await startTestServer(target, dir);
    const audit = await adminApi<{ verified: { entries: number } | null }>(
      server,
      'GET',
      '/api/audit?limit=5',
    );
    expect(audit.body.verified?.entries).toBe(backed.length + 1);
    const t = await adminApi<{ custodians: { name: string }[] }>(server, 'GET', '/api/targets/t1');
    expect(t.body.custodians.map((c) => c.name).sort()).toEqual(['alice', 'bob', 'carol']);
  }, 120_000);

  it('11.7 a schema with two version rows is refused, never rewritten; backup and restore refuse it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'two-rows-'));
    const path = join(dir, 'custodian.db');
    const s = openStore(path);
    s.audit.append('server-start', { url: 'x' });
    s.close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO schema_version VALUES (?)').run(7);
    raw.close();
    const rows = () => {
      const db = new Database(path, { readonly: true });
      const v = db.prepare('SELECT version FROM schema_version ORDER BY rowid').all();
      db.close();
      return v;
    };
    const original = rows();
    expect(original).toHaveLength(2);
    expect(() => openStore(path)).toThrow(/schema_version.*2 rows/);
    expect(rows()).toEqual(original);

    const out = join(dir, 'b.backup');
    const b = await cli(['backup', '--data-dir', dir, '--out', out]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/2 rows/);
    expect(existsSync(out)).toBe(false);

    // As a backup to restore from: refused, the installed database untouched.
    const other = mkdtempSync(join(tmpdir(), 'restore-into-'));
    const good = openStore(join(other, 'custodian.db'));
    good.audit.append('server-start', { url: 'y' });
    good.close();
    const goodHashes = hashes(join(other, 'custodian.db'));
    const r = await cli(['restore', '--data-dir', other, '--from', path]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/refusing to restore: .*2 rows/);
    expect(hashes(join(other, 'custodian.db'))).toEqual(goodHashes);
    expect(rows()).toEqual(original);
  });

  it('11.7 a backup whose audit chain was edited is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tampered-'));
    const path = join(dir, 'custodian.db');
    const s = openStore(path);
    for (let i = 0; i < 3; i++) s.audit.append('approval', { i });
    s.close();
    const raw = new Database(path);
    raw.prepare('UPDATE audit SET data = \'{"i":9}\' WHERE seq = 2').run();
    raw.close();
    const into = mkdtempSync(join(tmpdir(), 'restore-into-'));
    const r = await cli(['restore', '--data-dir', into, '--from', path]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/audit chain broken: audit entry 2 was modified/);
    expect(existsSync(join(into, 'custodian.db'))).toBe(false);
  });
});
