import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, stmt, type Db } from '../../../server/store/db';

const dirs: string[] = [];
const dbs: Db[] = [];
function fresh(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'stmt-cache-'));
  dirs.push(dir);
  const db = openDb(join(dir, 'server.db'));
  dbs.push(db);
  return db;
}
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('prepared statement cache (stmt)', () => {
  it('prepares a statement once per database and SQL, and answers correctly after reuse', () => {
    const db = fresh();
    let prepared = 0;
    const real = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      prepared++;
      return real(sql);
    }) as typeof db.prepare;
    stmt(db, 'CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)').run();
    for (let i = 0; i < 50; i++) stmt(db, 'INSERT INTO t (k, v) VALUES (?, ?)').run(i, `v${i}`);
    for (let i = 0; i < 50; i += 7)
      expect(stmt(db, 'SELECT v FROM t WHERE k = ?').get(i)).toEqual({ v: `v${i}` });
    expect(prepared).toBe(3);
    expect(stmt(db, 'SELECT v FROM t WHERE k = ?')).toBe(stmt(db, 'SELECT v FROM t WHERE k = ?'));
  });

  it('keeps databases apart', () => {
    const a = fresh();
    const b = fresh();
    stmt(a, 'CREATE TABLE t (v TEXT)').run();
    stmt(b, 'CREATE TABLE t (v TEXT)').run();
    stmt(a, 'INSERT INTO t (v) VALUES (?)').run('a');
    expect(stmt(b, 'SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    expect(stmt(a, 'SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
  });

  it('starts again when db.prepare is wrapped later, so the wrapper sees every statement', () => {
    const db = fresh();
    stmt(db, 'CREATE TABLE t (v TEXT)').run();
    stmt(db, 'INSERT INTO t (v) VALUES (?)').run('before');
    const seen: string[] = [];
    const real = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      seen.push(sql);
      return real(sql);
    }) as typeof db.prepare;
    stmt(db, 'INSERT INTO t (v) VALUES (?)').run('after');
    expect(seen).toEqual(['INSERT INTO t (v) VALUES (?)']);
  });
});
