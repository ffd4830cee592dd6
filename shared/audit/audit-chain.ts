/**
 * Hash chain for the append-only audit log: each entry carries the SHA-256 of the previous
 * entry, so changing, removing or reordering any entry breaks verification. Each line is the
 * entry's one canonical encoding ({@link encodeEntryLine}), and verification compares bytes, so
 * a line re-encoded to read differently (a duplicate key, say) fails even though it parses to
 * the same entry. Pure; the file handling lives in core/audit (docs/audit-log.md).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../codec/bytes';
import { err, ok, type Result } from '../result';

/** What an audit entry records. */
export type AuditKind =
  | 'approval'
  | 'decline'
  | 'apdu-forwarded'
  | 'apdu-blocked'
  | 'pin-verified'
  | 'pin-failed'
  /** The custodian cancelled a PIN entry (the PIN-pad dialog's Cancel). */
  | 'pin-cancelled'
  | 'offer-rejected'
  /** Refused offers counted rather than audited one by one (flood guard, docs/protocol.md §8). */
  | 'offers-rejected-summary'
  /** The server kept sending refused offers and was disconnected. */
  | 'server-suspicious'
  | 'enrollment'
  | 'connection'
  | 'error'
  /** An incomplete last line (a crash mid-append) was moved aside when the log was opened. */
  | 'log-recovered';

/** JSON-safe payload of an entry. */
export type AuditData = { readonly [key: string]: AuditValue };
/** A JSON value allowed in audit data. */
export type AuditValue = string | number | boolean | null | readonly AuditValue[] | AuditData;

/** One audit log line. */
export type AuditEntry = {
  readonly seq: number;
  readonly time: string;
  readonly kind: AuditKind;
  readonly data: AuditData;
  /** Hash of the previous entry (64 zeros for the first). */
  readonly prev: string;
  /** SHA-256 over the canonical JSON of all other fields. */
  readonly hash: string;
};

/** The `prev` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

const KINDS: ReadonlySet<string> = new Set<AuditKind>([
  'approval',
  'decline',
  'apdu-forwarded',
  'apdu-blocked',
  'pin-verified',
  'pin-failed',
  'pin-cancelled',
  'offer-rejected',
  'offers-rejected-summary',
  'server-suspicious',
  'enrollment',
  'connection',
  'error',
  'log-recovered',
]);

/** JSON with object keys sorted at every level, so the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** Computes the hash of an entry's content (everything but `hash`). */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, time, kind, data, prev } = entry;
  return toHex(sha256(new TextEncoder().encode(canonicalJson({ seq, time, kind, data, prev }))));
}

/**
 * Builds the next entry of a chain. `data` is taken as JSON would write it (an `undefined`
 * member dropped, `-0` as `0`), so the entry hashes exactly what its line says.
 * @throws Error when `data` is not a JSON object
 */
export function nextEntry(
  previous: Pick<AuditEntry, 'seq' | 'hash'> | undefined,
  kind: AuditKind,
  data: AuditData,
  time: Date,
): AuditEntry {
  const json: unknown = JSON.parse(JSON.stringify(data) ?? 'null');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error('audit data must be a JSON object');
  }
  const body = {
    seq: previous ? previous.seq + 1 : 1,
    time: time.toISOString(),
    kind,
    data: json as AuditData,
    prev: previous ? previous.hash : GENESIS_HASH,
  };
  return { ...body, hash: entryHash(body) };
}

/**
 * The one line (without its newline) that stores `entry`: members in the order seq, time,
 * kind, data, prev, hash; `data` with keys sorted at every level; no whitespace; strings and
 * numbers as `JSON.stringify` writes them. A log line is valid only if it equals this byte for
 * byte.
 */
export function encodeEntryLine(entry: AuditEntry): string {
  const { seq, time, kind, data, prev, hash } = entry;
  const q = JSON.stringify;
  return `{"seq":${q(seq)},"time":${q(time)},"kind":${q(kind)},"data":${canonicalJson(data)},"prev":${q(prev)},"hash":${q(hash)}}`;
}

/** Why a log failed verification, with the 1-based line number. */
export type AuditVerifyError = {
  readonly line: number;
  readonly code: 'malformed' | 'not-canonical' | 'bad-hash' | 'broken-chain' | 'bad-sequence';
  readonly message: string;
};

/** A verified log: entry count and the hash of the last entry (the head to pin elsewhere). */
export type AuditSummary = { readonly entries: number; readonly head: string };

/** Parses and checks one JSONL line. */
export function parseEntry(line: string): AuditEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const e = v as Record<string, unknown>;
  const hex64 = (x: unknown): x is string => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);
  if (
    !Number.isSafeInteger(e['seq']) ||
    typeof e['time'] !== 'string' ||
    typeof e['kind'] !== 'string' ||
    !KINDS.has(e['kind']) ||
    typeof e['data'] !== 'object' ||
    e['data'] === null ||
    Array.isArray(e['data']) ||
    !hex64(e['prev']) ||
    !hex64(e['hash']) ||
    Object.keys(e).length !== 6
  ) {
    return undefined;
  }
  return e as unknown as AuditEntry;
}

const LEGACY_ORDER = 'seq,time,kind,data,prev,hash';

/** The line the writer before canonical lines produced for `e`, or undefined if it could not. */
function legacyLine(e: AuditEntry): string | undefined {
  return Object.keys(e).join() === LEGACY_ORDER ? JSON.stringify(e) : undefined;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Verifies a whole log given as bytes (see {@link verifyAuditText}); bytes that are not valid
 * UTF-8 fail, as does a byte order mark, so no two byte strings pass as the same log.
 */
export function verifyAuditBytes(
  bytes: Uint8Array,
  expectedHead?: string,
): Result<AuditSummary, AuditVerifyError> {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return err({ line: 0, code: 'malformed', message: 'the log is not valid UTF-8' });
  }
  return verifyAuditText(text, expectedHead);
}

/**
 * Verifies a whole log given as JSONL text. Detects any edited, inserted, removed or reordered
 * line. Removing lines at the END cannot be seen from the file alone: compare the returned
 * head with one recorded elsewhere (`expectedHead`) for that.
 */
export function verifyAuditText(
  text: string,
  expectedHead?: string,
  options: { readonly legacyEncoding?: boolean } = {},
): Result<AuditSummary, AuditVerifyError> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev: AuditEntry | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const e = parseEntry(lines[i]!);
    if (!e)
      return err({ line, code: 'malformed', message: `line ${line} is not a valid audit entry` });
    // Bytes, not parsed JSON: a line that parses to a valid entry but is not its canonical
    // encoding (duplicate or reordered keys, spaces, escapes, another number form) was
    // re-written by something other than this log, and may show grep a different entry.
    // `legacyEncoding` only for converting a log written before lines were canonical
    // (`custodian audit adopt-head`): exactly what that writer produced, JSON.stringify of the
    // entry (data keys in any order) — never a duplicate key, a space or an escape it would
    // not write. The hashes never depended on the line's encoding.
    const encoded = options.legacyEncoding ? legacyLine(e) : encodeEntryLine(e);
    if (encoded !== lines[i]) {
      return err({
        line,
        code: 'not-canonical',
        message: `line ${line} is not in the log's exact encoding (re-encoded or edited)`,
      });
    }
    if (entryHash(e) !== e.hash) {
      return err({
        line,
        code: 'bad-hash',
        message: `line ${line} was modified (hash does not match)`,
      });
    }
    const expectedPrev = prev ? prev.hash : GENESIS_HASH;
    if (e.prev !== expectedPrev) {
      return err({
        line,
        code: 'broken-chain',
        message: `line ${line} does not follow line ${line - 1}`,
      });
    }
    if (e.seq !== (prev ? prev.seq + 1 : 1)) {
      return err({ line, code: 'bad-sequence', message: `line ${line} has sequence ${e.seq}` });
    }
    prev = e;
  }
  const head = prev ? prev.hash : GENESIS_HASH;
  if (expectedHead !== undefined && expectedHead !== head) {
    return err({
      line: lines.length,
      code: 'broken-chain',
      message: `log head ${head.slice(0, 16)}… differs from the expected ${expectedHead.slice(0, 16)}… (entries removed at the end?)`,
    });
  }
  return ok({ entries: lines.length, head });
}
