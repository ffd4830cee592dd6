/**
 * Opening and checking an audit log file against its head (docs/audit-log.md): what a missing
 * log or head means, and the automatic, audited recovery of an incomplete last line.
 * @module
 */
import { dirname } from 'node:path';
import {
  encodeEntryLine,
  parseEntry,
  verifyAuditText,
  type AuditEntry,
  type AuditSummary,
} from '../../shared/audit/audit-chain';
import {
  inspectAuditBytes,
  type AuditHead,
  type AuditLogError,
  type AuditTail,
} from '../../shared/audit/audit-tail';
import { err, ok, type Result } from '../../shared/result';
import { syncDirectory, writeAll, writeFileAtomic } from '../fs/atomic-write';
import { nodeAuditFs, type AuditFs } from './audit-fs';
import { createAuditHead, EMPTY_HEAD, headFilePath, readAuditHead } from './audit-head';

/** What the recovery of an incomplete last line did (also recorded as a `log-recovered` entry). */
export type AuditRecovery = {
  /** The file the incomplete line was moved to. */
  readonly movedTo: string;
  /** Its length in bytes. */
  readonly bytes: number;
  /** Where it started in the log (the log now ends there). */
  readonly offset: number;
};

/** One line for the user about a recovery (CLI stderr, desktop log). */
export function describeAuditRecovery(r: AuditRecovery): string {
  return `audit log: the last line was incomplete (${r.bytes} bytes, an append cut short by a crash or power loss); it was moved to ${r.movedTo} and the recovery was recorded in the log`;
}

/** A log checked against its head, ready to be appended to. */
export type LoadedAuditLog = {
  readonly last: AuditEntry | undefined;
  readonly size: number;
  /** The head as kept outside the log (the empty head for a new log). */
  readonly pinned: AuditHead;
  readonly recovered: AuditRecovery | undefined;
};

const fail = (line: number, code: AuditLogError['code'], message: string) =>
  err<AuditLogError>({ line, code, message });

/**
 * Reads the log at `path` with its head and checks them together. A missing log with a missing
 * (or empty) head is a new log. A log with entries but no head file is refused: the head was
 * deleted, or the log predates heads — `custodian audit adopt-head` records one after a look.
 */
export function checkAuditLog(
  fs: AuditFs,
  path: string,
): Result<{ tail: AuditTail; pinned: AuditHead | undefined }, AuditLogError> {
  const pinned = readAuditHead(fs, path);
  if (!pinned.ok) return fail(0, 'bad-head-file', pinned.error);
  if (!fs.exists(path)) {
    if (pinned.value !== undefined && pinned.value.entries > 0) {
      return fail(
        0,
        'behind-head',
        `audit log ${path} is missing, but its head records ${pinned.value.entries} entries`,
      );
    }
    const tail: AuditTail = { entries: 0, last: undefined, goodBytes: 0, torn: undefined };
    return ok({ tail, pinned: pinned.value });
  }
  const tail = inspectAuditBytes(fs.read(path), pinned.value);
  if (!tail.ok && pinned.value === undefined && tail.error.code === 'not-canonical') {
    return fail(
      tail.error.line,
      tail.error.code,
      `${tail.error.message}; the log has no head file either — if an earlier version wrote it, \`custodian audit adopt-head\` verifies and converts it`,
    );
  }
  if (!tail.ok) return tail;
  if (pinned.value === undefined && (tail.value.entries > 0 || tail.value.torn !== undefined)) {
    return fail(
      0,
      'head-missing',
      `the head file ${headFilePath(path)} is missing, so entries cut off the end could not be seen; if nobody removed it, run \`custodian audit adopt-head\` after checking the log`,
    );
  }
  return ok({ tail: tail.value, pinned: pinned.value });
}

/**
 * Prepares the log at `path` for appending: checks it (see {@link checkAuditLog}), moves an
 * incomplete last line to `<log>.torn-<time>` and cuts the log back to its last complete entry,
 * and writes the head of a new log before the log itself exists.
 * @throws Error naming the reason when the log cannot be used
 */
export function loadAuditLog(fs: AuditFs, path: string, now: Date): LoadedAuditLog {
  const checked = checkAuditLog(fs, path);
  if (!checked.ok) {
    throw new Error(`audit log ${path} failed verification: ${checked.error.message}`);
  }
  const { tail } = checked.value;
  let pinned = checked.value.pinned;
  if (pinned === undefined) {
    createAuditHead(fs, path, EMPTY_HEAD);
    pinned = EMPTY_HEAD;
  }
  let recovered: AuditRecovery | undefined;
  if (tail.torn !== undefined) {
    const movedTo = `${path}.torn-${now.toISOString().replace(/[:.]/g, '-')}`;
    const out = fs.openNew(movedTo);
    try {
      writeAll(fs, out, tail.torn);
      fs.fsync(out);
    } finally {
      fs.close(out);
    }
    syncDirectory(dirname(path), fs); // the moved-aside copy is durable before the log is cut
    const fd = fs.openAppend(path);
    try {
      fs.truncate(fd, tail.goodBytes);
      fs.fsync(fd);
    } finally {
      fs.close(fd);
    }
    recovered = { movedTo, bytes: tail.torn.length, offset: tail.goodBytes };
  }
  return { last: tail.last, size: tail.goodBytes, pinned, recovered };
}

/**
 * Verifies the log at `path` and its head without changing either: the chain byte for byte,
 * and that the log reaches its head. An incomplete last line is reported (`torn-tail`); the
 * next start of the custodian moves it aside.
 * @param options.expectedHead additionally, the hash the last entry must have
 * @param options.withoutHeadFile verify the chain alone (a copy of the log without its head)
 */
export function verifyAuditLog(
  path: string,
  options: { expectedHead?: string; withoutHeadFile?: boolean } = {},
  fs: AuditFs = nodeAuditFs,
): Result<AuditSummary, AuditLogError> {
  if (!fs.exists(path)) return fail(0, 'malformed', `audit log ${path} does not exist`);
  let tail: AuditTail;
  if (options.withoutHeadFile) {
    const t = inspectAuditBytes(fs.read(path), undefined);
    if (!t.ok) return t;
    tail = t.value;
  } else {
    const c = checkAuditLog(fs, path);
    if (!c.ok) return c;
    tail = c.value.tail;
  }
  if (tail.torn !== undefined) {
    return fail(
      tail.entries + 1,
      'torn-tail',
      `line ${tail.entries + 1} is incomplete (${tail.torn.length} bytes, an append cut short by a crash); the next start of the custodian moves it aside`,
    );
  }
  const head = tail.last?.hash ?? EMPTY_HEAD.head;
  if (options.expectedHead !== undefined && options.expectedHead !== head) {
    return fail(
      tail.entries,
      'broken-chain',
      `log head ${head.slice(0, 16)}… differs from the expected ${options.expectedHead.slice(0, 16)}… (entries removed at the end?)`,
    );
  }
  return ok({ entries: tail.entries, head });
}

/** What {@link adoptAuditHead} did. */
export type AdoptedHead = AuditHead & {
  /** Where the original was kept when the log was rewritten in the canonical encoding. */
  readonly converted?: string;
};

/**
 * Records the current end of a log that has no head file as its head, after verifying every
 * entry (for logs written before heads were kept, or after an operator checked the log). A log
 * written before lines were canonical, whose chain verifies, is rewritten line by line in the
 * canonical encoding — the hashes do not depend on it, so every entry and hash stays the same,
 * and what each line shows is what its hash covers — with the original kept next to it.
 * @throws Error when the log does not verify or already has a head
 */
export function adoptAuditHead(path: string, fs: AuditFs = nodeAuditFs): AdoptedHead {
  const pinned = readAuditHead(fs, path);
  if (!pinned.ok) throw new Error(pinned.error);
  if (pinned.value !== undefined) throw new Error(`audit log ${path} already has a head`);
  let converted: string | undefined;
  let v = verifyAuditLog(path, { withoutHeadFile: true }, fs);
  if (!v.ok && v.error.code === 'not-canonical') {
    const original = fs.read(path);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(original);
    const legacy = verifyAuditText(text, undefined, { legacyEncoding: true });
    if (!legacy.ok) {
      throw new Error(`audit log ${path} failed verification: ${legacy.error.message}`);
    }
    const lines = text.split('\n').filter((l) => l !== '');
    const canonical = lines.map((l) => `${encodeEntryLine(parseEntry(l)!)}\n`).join('');
    converted = `${path}.before-canonical`;
    if (fs.exists(converted)) throw new Error(`${converted} exists already; move it away first`);
    writeFileAtomic(converted, original, 0o600, fs);
    writeFileAtomic(path, canonical, 0o600, fs);
    v = verifyAuditLog(path, { withoutHeadFile: true }, fs);
  }
  if (!v.ok) throw new Error(`audit log ${path} failed verification: ${v.error.message}`);
  const head = { entries: v.value.entries, head: v.value.head };
  createAuditHead(fs, path, head);
  return converted === undefined ? head : { ...head, converted };
}
