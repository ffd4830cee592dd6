/**
 * An injectable failing store: statements whose SQL matches a rule throw the real
 * better-sqlite3 `SqliteError` (SQLITE_FULL, SQLITE_BUSY, …) as a full disk or a held lock
 * would, while everything else runs on the real database. Inside a transaction the throw
 * rolls the whole transaction back, exactly as a real failure does.
 */
import Database from 'better-sqlite3';
import type { Db } from '../../../server/store/db';

type Rule = { match: RegExp; code: string; left: number; skip: number };

const MESSAGES: Record<string, string> = {
  SQLITE_FULL: 'database or disk is full',
  SQLITE_BUSY: 'database is locked',
  SQLITE_IOERR: 'disk I/O error',
};

/** Wraps `db.prepare`; returns the controller. */
export function injectStoreFaults(db: Db) {
  const rules: Rule[] = [];
  const failed: string[] = [];
  const prepare = db.prepare.bind(db);
  const check = (sql: string) => {
    const rule = rules.find((r) => r.left > 0 && r.match.test(sql));
    if (!rule) return;
    if (rule.skip > 0) {
      rule.skip--;
      return;
    }
    rule.left--;
    failed.push(sql.replace(/\s+/g, ' ').trim());
    throw new Database.SqliteError(MESSAGES[rule.code] ?? rule.code, rule.code);
  };
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    return new Proxy(stmt, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (typeof v !== 'function') return v;
        if (prop === 'run' || prop === 'get' || prop === 'all' || prop === 'iterate') {
          return (...args: unknown[]) => {
            check(sql);
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (v as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }) as typeof db.prepare;
  return {
    /** Statements matching `match` fail with `code`: the next `times` of them after `skip`. */
    fail(match: RegExp, code = 'SQLITE_FULL', times = Number.POSITIVE_INFINITY, skip = 0) {
      rules.push({ match, code, left: times, skip });
    },
    /** Every write works again. */
    heal() {
      rules.length = 0;
    },
    /** SQL of the statements that failed, in order. */
    failed,
  };
}
