import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../server/store/db';
import {
  GroupCommitter,
  sqliteCommitPort,
  type CommitPort,
} from '../../../server/store/group-commit';
import { openStore } from '../../../server/store/store';

// Issue 12 §3: the writes of one event-loop turn share one commit (one fsync), and no caller
// hears "stored" before its writes are durable (issue 11: nothing acknowledged that was not
// stored).

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dbPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'group-commit-'));
  dirs.push(d);
  return join(d, 'custodian.db');
}

/** The real SQLite port, counting commits (each is one WAL fsync) and able to fail them. */
function countingPort(db: Db) {
  const inner = sqliteCommitPort(db);
  const counts = { begins: 0, commits: 0, failCommit: false, failBegin: false };
  const port: CommitPort = {
    begin() {
      if (counts.failBegin) throw new Error('database is locked');
      counts.begins++;
      inner.begin();
    },
    isolated: (fn) => inner.isolated(fn),
    commit() {
      if (counts.failCommit) throw new Error('disk I/O error');
      inner.commit();
      counts.commits++;
    },
    rollback: () => inner.rollback(),
  };
  return { port, counts };
}

function table(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS rec (i INTEGER PRIMARY KEY, v TEXT NOT NULL)');
}

/** A second connection: what a reader after a crash-free restart would see (committed only). */
function committedRows(path: string): number[] {
  const other = new Database(path, { readonly: true });
  try {
    return (other.prepare('SELECT i FROM rec ORDER BY i').all() as { i: number }[]).map((r) => r.i);
  } finally {
    other.close();
  }
}

describe('group commit', () => {
  it('N concurrent writers share fewer commits than N, each resolving only once durable', async () => {
    const path = dbPath();
    const db = openDb(path);
    table(db);
    const { port, counts } = countingPort(db);
    const g = new GroupCommitter(port);
    const N = 50;
    const seenAtResolve: number[][] = [];
    const all = Array.from({ length: N }, (_, i) =>
      g
        .durably(() => db.prepare('INSERT INTO rec (i, v) VALUES (?, ?)').run(i, `r${i}`))
        .then(() => {
          seenAtResolve[i] = committedRows(path);
        }),
    );
    await Promise.all(all);
    expect(counts.commits).toBeLessThan(N);
    expect(counts.commits).toBe(1);
    for (let i = 0; i < N; i++) expect(seenAtResolve[i]).toContain(i);
    expect(committedRows(path)).toEqual(Array.from({ length: N }, (_, i) => i));
    db.close();
  });

  it('writes of different turns go into different commits (the group is one turn)', async () => {
    const db = openDb(dbPath());
    table(db);
    const { port, counts } = countingPort(db);
    const g = new GroupCommitter(port);
    for (let i = 0; i < 3; i++) {
      await g.durably(() => db.prepare('INSERT INTO rec (i, v) VALUES (?, ?)').run(i, 'x'));
    }
    expect(counts.commits).toBe(3);
    db.close();
  });

  it('no caller resolves before the commit: a scheduled but unflushed batch answers nobody', async () => {
    const events: string[] = [];
    let flush: (() => void) | undefined;
    const port: CommitPort = {
      begin: () => void events.push('begin'),
      isolated: (fn) => fn(),
      commit: () => void events.push('commit'),
      rollback: () => void events.push('rollback'),
    };
    const g = new GroupCommitter(port, (f) => {
      flush = f;
    });
    const done = [1, 2, 3].map((i) =>
      g
        .durably(() => {
          events.push(`write ${i}`);
          return i * 10;
        })
        .then((v) => void events.push(`resolved ${v}`)),
    );
    // Let every microtask run: nothing may resolve while the batch is not committed.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(events).toEqual([]);
    flush!();
    await Promise.all(done);
    expect(events).toEqual([
      'begin',
      'write 1',
      'write 2',
      'write 3',
      'commit',
      'resolved 10',
      'resolved 20',
      'resolved 30',
    ]);
  });

  it('a failed commit rejects every caller of the batch and stores none of it', async () => {
    const path = dbPath();
    const db = openDb(path);
    table(db);
    const { port, counts } = countingPort(db);
    const g = new GroupCommitter(port);
    await g.durably(() => db.prepare('INSERT INTO rec (i, v) VALUES (0, ?)').run('before'));
    counts.failCommit = true;
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((i) =>
        g.durably(() => db.prepare('INSERT INTO rec (i, v) VALUES (?, ?)').run(i, 'x')),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(committedRows(path)).toEqual([0]);
    expect(db.inTransaction).toBe(false);
    // The store is usable again once commits work.
    counts.failCommit = false;
    await g.durably(() => db.prepare('INSERT INTO rec (i, v) VALUES (5, ?)').run('after'));
    expect(committedRows(path)).toEqual([0, 5]);
    db.close();
  });

  it('a batch that cannot begin (database locked) rejects every caller, runs no write', async () => {
    const db = openDb(dbPath());
    table(db);
    const { port, counts } = countingPort(db);
    const g = new GroupCommitter(port);
    counts.failBegin = true;
    let ran = 0;
    const results = await Promise.allSettled(
      [1, 2].map(() =>
        g.durably(() => {
          ran++;
        }),
      ),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(ran).toBe(0);
    db.close();
  });

  it('a caller whose writes throw is rejected alone; its writes are undone, the others stored', async () => {
    const path = dbPath();
    const db = openDb(path);
    table(db);
    const { port, counts } = countingPort(db);
    const g = new GroupCommitter(port);
    const insert = (i: number) => db.prepare('INSERT INTO rec (i, v) VALUES (?, ?)').run(i, 'x');
    const results = await Promise.allSettled([
      g.durably(() => insert(1)),
      g.durably(() => {
        insert(2);
        throw new Error('refused after writing');
      }),
      g.durably(() => insert(1)), // duplicate key: the real SQLite constraint error
      g.durably(() => insert(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect(counts.commits).toBe(1);
    expect(committedRows(path)).toEqual([1, 3]);
    db.close();
  });

  it('keeps submission order: a later writer sees the earlier ones, resolutions in order', async () => {
    const db = openDb(dbPath());
    table(db);
    const g = new GroupCommitter(sqliteCommitPort(db));
    const order: number[] = [];
    const counts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        g
          .durably(() => {
            db.prepare('INSERT INTO rec (i, v) VALUES (?, ?)').run(i, 'x');
            return (db.prepare('SELECT count(*) AS n FROM rec').get() as { n: number }).n;
          })
          .then((n) => {
            order.push(i);
            return n;
          }),
      ),
    );
    expect(counts).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => i));
    db.close();
  });

  it('Store.durably groups audit appends into one commit with an intact chain, in order', async () => {
    const path = dbPath();
    const store = openStore(path);
    let commits = 0;
    const realExec = store.db.exec.bind(store.db);
    store.db.exec = (sql: string) => {
      if (/^\s*COMMIT/i.test(sql)) commits++;
      return realExec(sql);
    };
    const entries = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.durably(() => store.audit.append('approval', { i })),
      ),
    );
    expect(commits).toBe(1);
    expect(entries.map((e) => (e.data as { i: number }).i)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const verified = store.audit.verify();
    expect(verified.ok && verified.value.entries).toBe(20);
    store.close();
  });
});
