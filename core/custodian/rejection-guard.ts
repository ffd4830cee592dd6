/**
 * Flood guard for refused offers, one per engine (= per server connection). A server can send
 * well-formed offers the custodian refuses as fast as it likes; auditing each one with an
 * fsync'd entry would let it grow the audit log without bound (issue 7 item 8). The first
 * rejections of a window are audited one by one; the rest are counted and written as one
 * summary entry; past a threshold the server is treated as suspicious (docs/protocol.md §8).
 * @module
 */

/** Rejections audited individually within one window (above any honest burst of refusals). */
export const REJECTION_AUDIT_LIMIT = 32;
/** Length of the sliding window the rejections are counted in. */
export const REJECTION_WINDOW_MS = 60_000;
/** Refused offers within one window after which the server is disconnected as suspicious. */
export const SUSPICIOUS_REFUSALS = 64;

/** The guard's thresholds (the constants above by default). */
export type RejectionLimits = {
  readonly auditLimit: number;
  readonly windowMs: number;
  readonly suspicious: number;
};

/** The shipped thresholds. */
export const DEFAULT_REJECTION_LIMITS: RejectionLimits = {
  auditLimit: REJECTION_AUDIT_LIMIT,
  windowMs: REJECTION_WINDOW_MS,
  suspicious: SUSPICIOUS_REFUSALS,
};

/** What the guard tells the engine to do with one rejection. */
export type RejectionVerdict = 'audit' | 'aggregate' | 'suspicious';

/** Rejections counted instead of audited one by one (the `offers-rejected-summary` entry). */
export type RejectionSummary = {
  readonly count: number;
  readonly byCode: Readonly<Record<string, number>>;
  readonly blockedCommands: number;
  readonly from: string;
  readonly to: string;
};

/** The guard's state for one connection. */
export type RejectionGuard = {
  /** Records a rejection (its code and number of blocked commands) and says how to audit it. */
  note(code: string, blockedCommands: number): RejectionVerdict;
  /** The aggregated rejections since the last call (undefined when there are none). */
  takeSummary(): RejectionSummary | undefined;
};

/** Creates a guard reading time from `now` (milliseconds). */
export function createRejectionGuard(
  now: () => number,
  limits: RejectionLimits = DEFAULT_REJECTION_LIMITS,
): RejectionGuard {
  // Times of the rejections in the current window; bounded because the engine disconnects at
  // `limits.suspicious`.
  const recent: number[] = [];
  let pending:
    | { count: number; byCode: Record<string, number>; blocked: number; from: number; to: number }
    | undefined;
  return {
    note(code, blockedCommands) {
      const t = now();
      while (recent.length > 0 && t - (recent[0] ?? t) >= limits.windowMs) recent.shift();
      recent.push(t);
      if (recent.length <= limits.auditLimit) return 'audit';
      pending ??= { count: 0, byCode: {}, blocked: 0, from: t, to: t };
      pending.count += 1;
      pending.byCode[code] = (pending.byCode[code] ?? 0) + 1;
      pending.blocked += blockedCommands;
      pending.to = t;
      return recent.length >= limits.suspicious ? 'suspicious' : 'aggregate';
    },
    takeSummary() {
      const p = pending;
      pending = undefined;
      if (!p) return undefined;
      return {
        count: p.count,
        byCode: { ...p.byCode },
        blockedCommands: p.blocked,
        from: new Date(p.from).toISOString(),
        to: new Date(p.to).toISOString(),
      };
    },
  };
}
