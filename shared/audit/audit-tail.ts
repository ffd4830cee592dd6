/**
 * The end of an audit log: where the verified entries stop, whether a crash left an incomplete
 * last line, and whether the log still reaches its head — the entry count and last hash kept
 * outside the log (docs/audit-log.md), which is what shows entries cut off the end. Pure; core/
 * audit reads the files and acts on the answer.
 * @module
 */
import { err, ok, type Result } from '../result';
import {
  GENESIS_HASH,
  parseEntry,
  verifyAuditBytes,
  type AuditEntry,
  type AuditVerifyError,
} from './audit-chain';

/** The head kept outside the log: how many entries it had and the hash of the last. */
export type AuditHead = { readonly entries: number; readonly head: string };

/** Why a log cannot be used (chain errors plus the ones about its end). */
export type AuditLogError = {
  readonly line: number;
  readonly code:
    | AuditVerifyError['code']
    | 'behind-head'
    | 'head-mismatch'
    | 'head-missing'
    | 'bad-head-file'
    | 'torn-tail';
  readonly message: string;
};

/** A log whose complete entries verify and reach the head. */
export type AuditTail = {
  /** Verified entries. */
  readonly entries: number;
  /** The last verified entry. */
  readonly last: AuditEntry | undefined;
  /** Length in bytes of the verified entries (where the next one goes). */
  readonly goodBytes: number;
  /** The incomplete last line after them, to be moved aside (never counted by the head). */
  readonly torn: Uint8Array | undefined;
};

const NL = 0x0a;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Whether a complete (newline-terminated) last line is debris of a lost write rather than
 * text: a NUL byte or bytes that are not UTF-8 (blocks a power loss left zero-filled or
 * stale). This log never writes either, and neither does anyone editing it as text — so a
 * text line that is not a valid entry is refused as tampering, not moved aside.
 */
function isDebris(line: Uint8Array): boolean {
  if (line.includes(0)) return true;
  try {
    STRICT_UTF8.decode(line);
    return false;
  } catch {
    return true;
  }
}

/** Serializes a head as its file stores it (one line of canonical JSON). */
export function encodeAuditHead(h: AuditHead): string {
  return `{"entries":${h.entries},"head":${JSON.stringify(h.head)}}\n`;
}

/** Parses a head file; only the exact encoding of a valid head is accepted. */
export function parseAuditHead(text: string): AuditHead | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { entries, head } = v as Record<string, unknown>;
  if (!Number.isSafeInteger(entries) || (entries as number) < 0) return undefined;
  if (typeof head !== 'string' || !/^[0-9a-f]{64}$/.test(head)) return undefined;
  const h = { entries: entries as number, head };
  if (h.entries === 0 && h.head !== GENESIS_HASH) return undefined;
  return encodeAuditHead(h) === text ? h : undefined;
}

/**
 * Inspects a log's bytes against its head. An incomplete final line — bytes after the last
 * newline, or a last line of debris (NUL bytes or not UTF-8, see {@link isDebris}) — is
 * reported in `torn`: an append that never finished, which never advanced the head, so it can
 * be moved aside. Anything else that does not verify is an error: a changed middle line, a
 * complete last line that is not a valid entry or fails the chain, or fewer entries than the
 * head records (tail loss is not recoverable, torn or not).
 * @param pinned the head kept outside the log, or undefined when there is none (the caller
 *   decides what a missing head means; here the entries are only verified)
 */
export function inspectAuditBytes(
  bytes: Uint8Array,
  pinned: AuditHead | undefined,
): Result<AuditTail, AuditLogError> {
  let end = bytes.lastIndexOf(NL) + 1;
  if (end === bytes.length && end > 0) {
    const start = end >= 2 ? bytes.lastIndexOf(NL, end - 2) + 1 : 0;
    if (isDebris(bytes.subarray(start, end - 1))) end = start;
  }
  const torn = end < bytes.length ? bytes.subarray(end) : undefined;
  const good = bytes.subarray(0, end);
  const v = verifyAuditBytes(good);
  if (!v.ok) return err(v.error);
  const lines = new TextDecoder().decode(good).split('\n');
  lines.pop();
  const entryAt = (n: number) => (n > 0 ? parseEntry(lines[n - 1]!) : undefined);
  const last = entryAt(v.value.entries);
  if (pinned !== undefined) {
    if (v.value.entries < pinned.entries) {
      return err({
        line: v.value.entries,
        code: 'behind-head',
        message: `the log ends after ${v.value.entries} entries but its head records ${pinned.entries}: entries were cut off the end`,
      });
    }
    const at = pinned.entries === 0 ? GENESIS_HASH : entryAt(pinned.entries)!.hash;
    if (at !== pinned.head) {
      return err({
        line: pinned.entries,
        code: 'head-mismatch',
        message: `entry ${pinned.entries} is not the one its head records (${pinned.head.slice(0, 16)}…): the log was replaced or rewritten`,
      });
    }
  }
  return ok({ entries: v.value.entries, last, goodBytes: end, torn });
}
