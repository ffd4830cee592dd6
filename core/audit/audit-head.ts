/**
 * The audit log's head file `<log>.head` (docs/audit-log.md): the entry count and last hash of
 * the log, advanced after each durable append, so entries cut off the end are seen.
 *
 * It holds two 192-byte slots (at offsets 0 and 4096), each one line `{"entries":N,"head":"…","check":"…"}` padded with
 * spaces, where `check` is a digest of the other two fields. An update overwrites the older
 * slot in place and fsyncs it: a crash mid-write tears at most that slot, whose check then
 * fails, and the other slot still holds the previous head. So each update is atomic at the
 * cost of one fsync, without creating a file per append. The file itself is created
 * atomically (temporary file, fsync, rename, directory sync).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { GENESIS_HASH } from '../../shared/audit/audit-chain';
import { encodeAuditHead, parseAuditHead, type AuditHead } from '../../shared/audit/audit-tail';
import { toHex } from '../../shared/codec/bytes';
import { err, ok, type Result } from '../../shared/result';
import { messageOf } from '../../shared/error-message';
import { writeAll, writeFileAtomic } from '../fs/atomic-write';
import type { AuditFs } from './audit-fs';

/** The head of an empty log. */
export const EMPTY_HEAD: AuditHead = { entries: 0, head: GENESIS_HASH };

const SLOT = 192;
/** Slot 1 starts in another 4 KiB block, so one torn block write can never reach both. */
const STRIDE = 4096;

/** Where the head of the log at `logPath` is kept. */
export function headFilePath(logPath: string): string {
  return `${logPath}.head`;
}

const checkOf = (h: AuditHead) =>
  toHex(sha256(new TextEncoder().encode(`audit-head:${h.entries}:${h.head}`))).slice(0, 32);

function encodeSlot(h: AuditHead): Uint8Array {
  const line = `{"entries":${h.entries},"head":"${h.head}","check":"${checkOf(h)}"}`;
  return new TextEncoder().encode(line.padEnd(SLOT - 1, ' ') + '\n');
}

function decodeSlot(bytes: Uint8Array): AuditHead | undefined {
  if (bytes.length !== SLOT) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const m = /^\{"entries":(\d{1,16}),"head":"([0-9a-f]{64})","check":"([0-9a-f]{32})"\} *\n$/.exec(
    text,
  );
  if (!m) return undefined;
  const h = parseAuditHead(encodeAuditHead({ entries: Number(m[1]), head: m[2]! }));
  return h && checkOf(h) === m[3] && encodeSlot(h).every((b, i) => b === bytes[i]) ? h : undefined;
}

/** The valid slot with the most entries, and which slot it is. */
function bestSlot(bytes: Uint8Array): { head: AuditHead; slot: 0 | 1 } | undefined {
  const a = decodeSlot(bytes.subarray(0, SLOT));
  const b = decodeSlot(bytes.subarray(STRIDE, STRIDE + SLOT));
  if (a && (!b || a.entries >= b.entries)) return { head: a, slot: 0 };
  return b ? { head: b, slot: 1 } : undefined;
}

/** Reads the head of the log at `logPath`: undefined when there is no head file. */
export function readAuditHead(fs: AuditFs, logPath: string): Result<AuditHead | undefined, string> {
  const path = headFilePath(logPath);
  if (!fs.exists(path)) return ok(undefined);
  let bytes: Uint8Array;
  try {
    bytes = fs.read(path);
  } catch (e) {
    return err(`head file ${path} cannot be read: ${messageOf(e)}`);
  }
  const best = bytes.length === STRIDE + SLOT ? bestSlot(bytes) : undefined;
  return best ? ok(best.head) : err(`head file ${path} holds no valid audit head`);
}

/** Creates (or replaces) the head file of the log at `logPath` atomically and durably. */
export function createAuditHead(fs: AuditFs, logPath: string, head: AuditHead): void {
  const slot = encodeSlot(head);
  const both = new Uint8Array(STRIDE + SLOT);
  both.set(slot, 0);
  both.set(slot, STRIDE);
  writeFileAtomic(headFilePath(logPath), both, 0o600, fs);
}

/** Advances a head file in place (see the module comment). */
export type AuditHeadWriter = {
  /** Records `head` durably. @throws the file system's error (the previous head then stands) */
  write(head: AuditHead): void;
  close(): void;
};

/** Opens the existing head file of the log at `logPath` for updates. */
export function openAuditHeadWriter(fs: AuditFs, logPath: string): AuditHeadWriter {
  const path = headFilePath(logPath);
  const current = bestSlot(fs.read(path));
  let next = current?.slot === 0 ? 1 : 0;
  const fd = fs.openUpdate(path);
  return {
    write(head) {
      writeAll(fs, fd, encodeSlot(head), next * STRIDE);
      fs.fsync(fd);
      next = next === 0 ? 1 : 0;
    },
    close: () => fs.close(fd),
  };
}
