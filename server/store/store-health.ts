/**
 * Store health: a failed write (disk full, database locked, I/O error) is contained where it
 * happens — that one operation fails, the server keeps serving — and the operator is told:
 * one log line per failure, and `/api/health` reports `degraded` with the reason until a write
 * succeeds again (server/README.md "Store failures").
 * @module
 */
import { messageOf } from '../../shared/error-message';

/** What `/api/health` reports about the store. */
export type StoreHealthStatus =
  | { readonly state: 'ok' }
  | {
      readonly state: 'degraded';
      /** One line: the operation that failed and why (e.g. `SQLITE_FULL`). */
      readonly reason: string;
      readonly since: string;
      /** Failed operations since the store was last healthy. */
      readonly failures: number;
    };

/** The SQLite result code of an error (`SQLITE_FULL`, `SQLITE_BUSY`, …), if it has one. */
export function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** One line describing an error (no stack). */
export function oneLine(e: unknown): string {
  const text = messageOf(e);
  const code = sqliteCode(e);
  const line = text.replace(/\s+/g, ' ').slice(0, 300);
  return code && !line.includes(code) ? `${code}: ${line}` : line;
}

/** Tracks whether store writes currently work. */
export class StoreHealth {
  private degraded: { reason: string; since: string; failures: number } | undefined;

  constructor(
    private readonly clock: () => Date = () => new Date(),
    private log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** Replaces the log sink (the server sets its own). */
  setLog(log: (line: string) => void): void {
    this.log = log;
  }

  /** Records that `operation` failed with `e`: one log line, status degraded. */
  failed(operation: string, e: unknown): void {
    const reason = `${operation}: ${oneLine(e)}`;
    this.degraded = {
      reason,
      since: this.degraded?.since ?? this.clock().toISOString(),
      failures: (this.degraded?.failures ?? 0) + 1,
    };
    this.log(`custodian-server: STORE FAILURE (${this.degraded.failures}) ${reason}`);
  }

  /**
   * Reports an error caught in a callback: a store error degrades the store; anything else is
   * logged in one line (never a stack, never a crash).
   */
  report(operation: string, e: unknown): void {
    if (sqliteCode(e) !== undefined) this.failed(operation, e);
    else this.log(`custodian-server: ${operation} failed: ${oneLine(e)}`);
  }

  /** Records a successful write: a degraded store is healthy again. */
  succeeded(): void {
    if (!this.degraded) return;
    const was = this.degraded;
    this.degraded = undefined;
    this.log(
      `custodian-server: store writes work again (${was.failures} failed since ${was.since})`,
    );
  }

  /** The current status. */
  status(): StoreHealthStatus {
    return this.degraded ? { state: 'degraded', ...this.degraded } : { state: 'ok' };
  }
}

/**
 * Runs `fn` for a callback, timer or event handler that must never crash the process: any
 * error is contained, reported as a store failure of `operation`, and `undefined` returned.
 */
export function contained<T>(health: StoreHealth, operation: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    health.report(operation, e);
    return undefined;
  }
}
