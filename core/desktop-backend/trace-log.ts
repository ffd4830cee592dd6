/**
 * The APDU trace the desktop app shows: every command an approval forwarded to the card or the
 * firewall blocked (docs/card-reference.md §12; docs/card-reference.md §14.2). The engine writes these to the audit
 * log; this tee passes each entry through to the log unchanged and keeps a bounded ring of
 * trace lines, with the command bytes looked up in the verified script (the audit log itself
 * records headers and status words only).
 * @module
 */
import type { AuditData, AuditKind } from '../../shared/audit/audit-chain';
import { toHex } from '../../shared/codec/bytes';
import { traceEntrySchema, type TraceEntry } from '../../shared/ipc/model';
import { FIREWALL_RULES } from '../../shared/policy/firewall-rules';
import type { AuditAppender } from '../custodian/engine-types';

/** Default number of trace lines kept (the renderer caps its list at 2000). */
export const TRACE_CAPACITY = 2000;

/** Finds the command an audit entry refers to (ceremony, offer, index in the script). */
export type ScriptLookup = (
  ceremonyId: string,
  offerId: string,
  index: number,
) => Uint8Array | undefined;

/** The trace ring plus the audit tee that feeds it. */
export type TraceLog = {
  /** Wraps an audit appender: entries pass through, APDU entries also become trace lines. */
  tee(inner: AuditAppender): AuditAppender;
  /** The newest `limit` lines, oldest first. */
  list(limit?: number): TraceEntry[];
  /** Subscribes to new lines; returns the unsubscribe. */
  on(listener: (entry: TraceEntry) => void): () => void;
};

const RULE_TEXT = new Map(FIREWALL_RULES.map((r) => [r.id as string, r.text]));

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Converts one audit entry to a trace line, or undefined for other kinds or bad data. */
export function traceLineOf(
  kind: AuditKind,
  data: AuditData,
  seq: number,
  time: Date,
  lookup: ScriptLookup,
): TraceEntry | undefined {
  if (kind !== 'apdu-forwarded' && kind !== 'apdu-blocked') return undefined;
  const ceremonyId = str(data['ceremonyId']);
  const offerId = str(data['offerId']);
  const index = data['index'];
  const header = str(data['header']);
  const rule = str(data['rule']);
  const swText = str(data['sw']);
  if (header === undefined || rule === undefined || swText === undefined) return undefined;
  if (!/^[0-9A-Fa-f]{4}$/.test(swText) || rule.length === 0) return undefined;
  const command =
    ceremonyId !== undefined && offerId !== undefined && typeof index === 'number'
      ? lookup(ceremonyId, offerId, index)
      : undefined;
  const reason =
    kind === 'apdu-blocked'
      ? (str(data['reason']) ?? 'blocked by the firewall')
      : (RULE_TEXT.get(rule) ?? 'allowed by the firewall');
  // The IPC schema is the one judge of a valid line (main validates every event it sends):
  // audit data that does not fit it gives no trace line rather than a line main would drop.
  const idOk = traceEntrySchema.shape.ceremonyId.safeParse(ceremonyId).success;
  const line = traceEntrySchema.safeParse({
    seq,
    time: time.toISOString(),
    ...(ceremonyId !== undefined && idOk ? { ceremonyId } : {}),
    decision: kind === 'apdu-forwarded' ? 'forwarded' : 'blocked',
    header: header.slice(0, 16),
    rule: rule.slice(0, 128),
    reason: reason.slice(0, 500),
    command: command === undefined ? '' : toHex(command).toUpperCase(),
    sw: Number.parseInt(swText, 16),
  });
  return line.success ? line.data : undefined;
}

/** Creates the trace log. */
export function createTraceLog(
  lookup: ScriptLookup,
  options: { capacity?: number; now?: () => Date } = {},
): TraceLog {
  const capacity = Math.max(1, options.capacity ?? TRACE_CAPACITY);
  const now = options.now ?? (() => new Date());
  const ring: TraceEntry[] = [];
  const listeners = new Set<(entry: TraceEntry) => void>();
  let seq = 0;
  const record = (kind: AuditKind, data: AuditData): void => {
    const line = traceLineOf(kind, data, seq, now(), lookup);
    if (!line) return;
    seq += 1;
    ring.push(line);
    if (ring.length > capacity) ring.splice(0, ring.length - capacity);
    for (const l of listeners) {
      try {
        l(line);
      } catch {
        // A broken listener must not break the audit path.
      }
    }
  };
  return {
    tee: (inner) => ({
      append(kind, data, options) {
        const written = inner.append(kind, data, options); // throws when it cannot be written
        record(kind, data);
        return written;
      },
      sync: () => inner.sync?.(),
    }),
    list(limit) {
      const n = limit === undefined ? ring.length : Math.max(0, Math.min(limit, ring.length));
      return ring.slice(ring.length - n);
    },
    on(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
