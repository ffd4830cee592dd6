/**
 * Group commit: the writes that arrive in one turn of the event loop are stored in ONE write
 * transaction, so they share one durable commit (one WAL fsync with `synchronous=FULL`) instead
 * of paying one each (issue 12 §3: ~6 ms of fsync per approval with a thousand custodians).
 *
 * Durability is not weakened: a caller's promise resolves only after the commit that contains its
 * writes has returned, so an answer sent after `await` is still sent after its record is durable
 * (server/README.md "Intent before every card step"). Each caller's writes run in their own
 * savepoint, in submission order: a caller whose writes throw is rejected alone and its writes
 * are undone, the others go on; when the batch itself cannot begin or commit, every caller in it
 * is rejected and nothing of it is stored — nothing is acknowledged that was not stored.
 * @module
 */
import type { Db } from './db';

/** The transaction primitives a batch needs; SQLite's in {@link sqliteCommitPort}, fakes in tests. */
export type CommitPort = {
  /** Opens the batch's write transaction (throws when the store cannot be written). */
  begin(): void;
  /** Runs one caller's writes so that a throw undoes only them (a savepoint). */
  isolated<T>(fn: () => T): T;
  /** Makes the batch durable: the one fsync. Throws when it fails (the batch is then undone). */
  commit(): void;
  /** Undoes the open batch. */
  rollback(): void;
};

/** SQLite's primitives: BEGIN IMMEDIATE, a savepoint per caller, COMMIT. */
export function sqliteCommitPort(db: Db): CommitPort {
  return {
    begin: () => void db.exec('BEGIN IMMEDIATE'),
    // Inside an open transaction better-sqlite3 runs a transaction function as a savepoint.
    isolated: (fn) => db.transaction(fn)(),
    commit: () => void db.exec('COMMIT'),
    rollback: () => {
      if (db.inTransaction) db.exec('ROLLBACK');
    },
  };
}

type Pending = {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
};

/** Batches writes per event-loop turn; see the module comment. */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Commits made so far (one per non-empty batch that began). */
  commits = 0;

  constructor(
    private readonly port: CommitPort,
    /** Runs the flush after the current turn's I/O callbacks (default `setImmediate`). */
    private readonly schedule: (flush: () => void) => void = (f) => void setImmediate(f),
    /** Called after every successful commit (store health). */
    private readonly onCommitted: () => void = () => undefined,
  ) {}

  /**
   * Runs `fn` (synchronous store writes) in the next batch and resolves with its value once
   * the batch is durable; rejects when `fn` throws or the batch cannot be stored. `fn` runs
   * later, not now: it must read what it depends on itself.
   */
  durably<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(() => this.flush());
      }
    });
  }

  /** Stores the queued batch now (also what the scheduled flush runs). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      this.port.begin();
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    const done: { p: Pending; value: unknown }[] = [];
    for (const p of batch) {
      try {
        done.push({ p, value: this.port.isolated(p.fn) });
      } catch (e) {
        p.reject(e);
      }
    }
    try {
      this.port.commit();
      this.commits++;
    } catch (e) {
      try {
        this.port.rollback();
      } catch {
        // The commit error is the one to report; a failed rollback leaves SQLite to undo it.
      }
      for (const { p } of done) p.reject(e);
      return;
    }
    this.onCommitted();
    for (const { p, value } of done) p.resolve(value);
  }
}
