/**
 * Decisions survive a restart of the client (docs/protocol.md §3.4): every decision frame is
 * kept until its offer expires, so an offer the server re-sends after a crash is answered with
 * the stored frame, never asked again and never signed again. File form: one JSON object per
 * line, owner-only permissions, written with fsync before the frame is sent.
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { decisionSchema, type DecisionMessage } from '../../shared/protocol/index';
import { writeFileAtomic } from '../fs/atomic-write';

/** Where decisions are remembered. */
export type DecisionStore = {
  /** The stored decision for an offer id. */
  get(offerId: string): DecisionMessage | undefined;
  /** Stores a decision durably until `expiresAt`. */
  put(decision: DecisionMessage, expiresAt: Date): void;
};

/** A store in memory only (tests, or when no file is configured). */
export function memoryDecisionStore(): DecisionStore {
  const map = new Map<string, DecisionMessage>();
  return { get: (id) => map.get(id), put: (d) => void map.set(d.offerId, d) };
}

type Row = { readonly expiresAt: string; readonly decision: DecisionMessage };

/** Most rows kept (bounded even against a hostile server). */
const MAX_ROWS = 4096;

/**
 * A file-backed store. Unreadable or invalid lines are skipped (they are only a cache of what
 * the server also knows); expired rows are dropped when the file is opened.
 */
export function fileDecisionStore(path: string, now: () => Date = () => new Date()): DecisionStore {
  const rows = new Map<string, Row>();
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const raw = JSON.parse(line) as { expiresAt?: unknown; decision?: unknown };
        const parsed = decisionSchema.safeParse(raw.decision);
        const exp = typeof raw.expiresAt === 'string' ? Date.parse(raw.expiresAt) : NaN;
        if (parsed.success && Number.isFinite(exp) && exp > now().getTime()) {
          rows.set(parsed.data.offerId, {
            expiresAt: raw.expiresAt as string,
            decision: parsed.data,
          });
        }
      } catch {
        // skip the line
      }
    }
    writeFileAtomic(path, [...rows.values()].map((r) => JSON.stringify(r) + '\n').join(''), 0o600);
  }
  return {
    get: (offerId) => rows.get(offerId)?.decision,
    put(decision, expiresAt) {
      if (rows.size >= MAX_ROWS) {
        const first = rows.keys().next();
        if (!first.done) rows.delete(first.value);
      }
      const row: Row = { expiresAt: expiresAt.toISOString(), decision };
      rows.set(decision.offerId, row);
      const fd = openSync(path, 'a', 0o600);
      try {
        writeSync(fd, JSON.stringify(row) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
