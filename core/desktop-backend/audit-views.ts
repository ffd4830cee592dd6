/**
 * The custodian's audit log as the desktop app shows it: the newest entries with a one-line
 * summary each, and the verification of the whole hash chain (core/audit, shared/audit).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEntry, type AuditEntry } from '../../shared/audit/audit-chain';
import type { AuditEntryView, AuditVerifyView } from '../../shared/ipc/model';
import { verifyAuditLog } from '../audit/audit-log';

/** Largest number of lines returned at once (the contract's list cap). */
const MAX_LINES = 5000;

const s = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** One plain line about an audit entry (never data the log does not hold, never a PIN). */
export function auditSummary(e: AuditEntry): string {
  const d = e.data;
  const cer = d['ceremonyId'] !== undefined ? ` (ceremony ${s(d['ceremonyId'])})` : '';
  switch (e.kind) {
    case 'approval':
      return `Approved "${s(d['purpose'])}" for target ${s(d['target'])}${cer}`;
    case 'decline':
      return `Declined: ${s(d['reason'])}${cer}`;
    case 'apdu-forwarded':
      return `Forwarded ${s(d['header'])} (${s(d['rule'])}), card answered ${s(d['sw'])}${cer}`;
    case 'apdu-blocked':
      return `Blocked ${s(d['header'])} (${s(d['rule'])}): ${s(d['reason'])}${cer}`;
    case 'pin-verified':
      return `PIN verified on the card${cer}`;
    case 'pin-failed':
      return `Wrong PIN, ${s(d['retriesLeft'])} tries left${cer}`;
    case 'pin-cancelled':
      return `PIN entry cancelled by you${cer}`;
    case 'offer-rejected':
      return `Offer refused: ${s(d['code'] ?? d['reason'])}${cer}`;
    case 'offers-rejected-summary':
      return `${s(d['count'])} more offers refused (${s(d['from'])} to ${s(d['to'])})`;
    case 'server-suspicious':
      return `Server disconnected as suspicious: ${s(d['reason'])}`;
    case 'enrollment':
      return `Enrolled${d['custodianId'] !== undefined ? ` as ${s(d['custodianId'])}` : ''}`;
    case 'connection':
      return `Server connection ${s(d['state'])}${d['reason'] !== undefined ? `: ${s(d['reason'])}` : ''}`;
    case 'error':
      return `Error: ${s(d['what'])}${d['message'] !== undefined ? ` — ${s(d['message'])}` : ''}${cer}`;
    case 'log-recovered':
      return `Audit log recovered: an incomplete last line (${s(d['bytes'])} bytes) was moved to ${s(d['movedTo'])}`;
  }
}

/** The newest `limit` entries of the log at `path`, oldest first (a missing log is empty). */
export function listAudit(path: string, limit = 500): AuditEntryView[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const n = Math.max(1, Math.min(limit, MAX_LINES));
  const out: AuditEntryView[] = [];
  for (const line of lines.slice(-n)) {
    const e = parseEntry(line);
    if (!e) continue; // verification reports the damage; the list shows what it can
    const time = new Date(e.time);
    out.push({
      seq: e.seq,
      time: Number.isNaN(time.getTime()) ? new Date(0).toISOString() : time.toISOString(),
      kind: e.kind,
      summary: auditSummary(e).slice(0, 500),
      hash: e.hash,
    });
  }
  return out;
}

/**
 * Verifies the whole chain byte for byte and against the log's head file (docs/audit-log.md);
 * a missing log is an intact empty log unless its head says otherwise.
 */
export function verifyAudit(path: string): AuditVerifyView {
  if (!existsSync(path) && !existsSync(`${path}.head`)) {
    return { ok: true, entries: 0, head: '0'.repeat(64) };
  }
  const v = verifyAuditLog(path);
  return v.ok
    ? { ok: true, entries: v.value.entries, head: v.value.head }
    : { ok: false, line: v.error.line, reason: v.error.message.slice(0, 500) };
}
