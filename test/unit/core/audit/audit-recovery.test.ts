import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeAuditRecovery,
  openAuditLog,
  verifyAuditLog,
} from '../../../../core/audit/audit-log';
import { encodeEntryLine, nextEntry, parseEntry } from '../../../../shared/audit/audit-chain';

// Issue 11 item 9: a torn last line (power loss mid-append) stopped the engine and the CLI.
// Now it is moved aside, the recovery is audited and reported; anything else still refuses.

const NOW = new Date('2026-11-27T00:00:00Z');
const fresh = () => join(mkdtempSync(join(tmpdir(), 'audit-torn-')), 'audit.jsonl');

function writeLog(path: string, n: number): string[] {
  const log = openAuditLog(path, () => NOW);
  for (let i = 0; i < n; i++)
    log.append('approval', { ceremonyId: `c${i}`, target: 'UTEMU1234500001' });
  log.close();
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

/** The line the next append would write (what a torn append was writing). */
function nextLine(lines: string[]): string {
  const last = parseEntry(lines[lines.length - 1]!)!;
  return encodeEntryLine(
    nextEntry(last, 'approval', { ceremonyId: 'next', target: 'ü-target' }, NOW),
  );
}

function expectRecovered(path: string, torn: Uint8Array, entriesBefore: number) {
  const log = openAuditLog(path, () => new Date('2026-11-28T10:00:00Z'));
  const r = log.recovered;
  expect(r).toBeDefined();
  expect(r!.bytes).toBe(torn.length);
  expect(readFileSync(r!.movedTo)).toEqual(Buffer.from(torn));
  expect(r!.movedTo).toContain('audit.jsonl.torn-2026-11-28T10-00-00-000Z');
  // The recovery is its own entry, chained after the last complete one.
  expect(log.head).toMatchObject({ seq: entriesBefore + 1, kind: 'log-recovered' });
  expect(log.head!.data).toMatchObject({ movedTo: r!.movedTo, bytes: torn.length });
  expect(describeAuditRecovery(r!)).toMatch(/incomplete .* moved to .*torn-/);
  log.append('decline', { ceremonyId: 'after' });
  log.close();
  expect(verifyAuditLog(path)).toMatchObject({ ok: true, value: { entries: entriesBefore + 2 } });
}

describe('issue 11 item 9: a torn last line is recovered automatically and visibly', () => {
  it('11.9 every cut of the line being appended is recovered', () => {
    const base = fresh();
    const lines = writeLog(base, 3);
    const line = new TextEncoder().encode(nextLine(lines) + '\n');
    // Every prefix that lacks the newline, including cuts inside a multi-byte character.
    for (let cut = 1; cut < line.length; cut += cut < 20 ? 1 : 17) {
      const path = fresh();
      writeLog(path, 3);
      appendFileSync(path, line.subarray(0, cut));
      expect(verifyAuditLog(path)).toMatchObject({ ok: false, error: { code: 'torn-tail' } });
      expectRecovered(path, line.subarray(0, cut), 3);
    }
  });

  it('11.9 zero-filled or garbage tails, even newline-terminated, are recovered', () => {
    const tails = [
      new Uint8Array(512),
      Uint8Array.of(0xff, 0xfe, 0x00, 0x7b),
      new TextEncoder().encode('\0\0\0\0\n'),
      Uint8Array.of(0x7b, 0x22, 0xc3, 0x0a), // a lone UTF-8 lead byte before a newline
    ];
    for (const tail of tails) {
      const path = fresh();
      writeLog(path, 2);
      appendFileSync(path, tail);
      expectRecovered(path, tail, 2);
    }
    // A first append torn on a new log.
    const path = fresh();
    openAuditLog(path).close();
    appendFileSync(path, '{"seq":1,"ti');
    expectRecovered(path, new TextEncoder().encode('{"seq":1,"ti'), 0);
  });

  it('11.9 audit verify reports a torn line without touching it; the next start recovers', () => {
    const path = fresh();
    writeLog(path, 1);
    appendFileSync(path, '{"seq":2');
    const before = readFileSync(path);
    expect(verifyAuditLog(path)).toMatchObject({
      ok: false,
      error: { line: 2, code: 'torn-tail', message: expect.stringMatching(/next start/) },
    });
    expect(readFileSync(path)).toEqual(before);
    const log = openAuditLog(path);
    expect(log.recovered).toBeDefined();
    log.close();
    expect(readdirSync(dirname(path)).some((f) => f.startsWith('audit.jsonl.torn-'))).toBe(true);
    expect(verifyAuditLog(path).ok).toBe(true);
  });

  it('11.9 anything else that does not verify still refuses to start', () => {
    const refuse = (mutate: (path: string, lines: string[]) => void, reason: RegExp) => {
      const path = fresh();
      const lines = writeLog(path, 4);
      mutate(path, lines);
      const before = readFileSync(path);
      expect(() => openAuditLog(path), reason.source).toThrow(reason);
      expect(readFileSync(path)).toEqual(before);
      expect(readdirSync(dirname(path)).some((f) => f.includes('.torn-'))).toBe(false);
    };
    const write = (path: string, ls: string[], extra = '') =>
      writeFileSync(path, ls.join('\n') + '\n' + extra);
    // A middle line changed.
    refuse(
      (p, ls) => write(p, [ls[0]!, ls[1]!.replace('c1', 'c9'), ls[2]!, ls[3]!]),
      /line 2 was modified/,
    );
    // A middle line changed, and a torn tail besides.
    refuse(
      (p, ls) => write(p, [ls[0]!, ls[1]!.replace('c1', 'c9'), ls[2]!, ls[3]!], '{"se'),
      /line 2/,
    );
    // A complete last line that fails the chain (parses, wrong hash).
    refuse(
      (p, ls) => write(p, [...ls.slice(0, 3), ls[3]!.replace('c3', 'c8')]),
      /line 4 was modified/,
    );
    // A complete text line that is not an entry: written by someone, not torn by a crash.
    refuse((p, ls) => write(p, ls, '{"seq":5}\n'), /line 5 is not a valid audit entry/);
    refuse((p, ls) => write(p, ls, '{"seq":5,"time":"2026-\n'), /line 5 is not a valid/);
    // A complete, well-formed next line that does not follow.
    refuse((p, ls) => write(p, [...ls, ls[1]!]), /line 5/);
    // A log shorter than its head, with or without a torn line after it.
    refuse((p, ls) => write(p, ls.slice(0, 3)), /cut off the end/);
    refuse((p, ls) => write(p, ls.slice(0, 3), '{"seq":4,"ti'), /cut off the end/);
    // The last pinned line torn (not an append in progress: it was already durable).
    refuse((p, ls) => write(p, ls.slice(0, 3), ls[3]!.slice(0, 30)), /cut off the end/);
  });
});
