import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main as custodianCli } from '../../../../cli/main';
import {
  adoptAuditHead,
  headFilePath,
  openAuditLog,
  verifyAuditLog,
} from '../../../../core/audit/audit-log';
import { nextEntry, parseEntry } from '../../../../shared/audit/audit-chain';

// Issue 7 item 11: a log cut off at the end verified "intact" and was appended to. The head
// (entry count + last hash) now lives next to the log, and the log must reach it.

const fresh = () => join(mkdtempSync(join(tmpdir(), 'audit-head-')), 'audit.jsonl');

function writeLog(path: string, n: number, tag = 'a'): string[] {
  const log = openAuditLog(path, () => new Date('2026-11-27T00:00:00Z'));
  for (let i = 0; i < n; i++) log.append('apdu-forwarded', { header: '80 68 01 73', i, tag });
  log.close();
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

async function cliVerify(...args: string[]) {
  let out = '';
  let err = '';
  const code = await custodianCli(
    ['audit', 'verify', ...args],
    {},
    {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
    },
  );
  return { code, out, err };
}

/** Opening must refuse, and leave the log exactly as it was (nothing appended). */
function expectRefused(path: string, reason: RegExp) {
  const before = existsSync(path) ? readFileSync(path) : undefined;
  expect(() => openAuditLog(path)).toThrow(reason);
  expect(existsSync(path) ? readFileSync(path) : undefined).toEqual(before);
}

describe('issue 7 item 11: entries cut off the end are detected', () => {
  it('7.11 truncated by one line: open refuses, verify and the CLI report it', async () => {
    const path = fresh();
    const lines = writeLog(path, 5);
    writeFileSync(path, lines.slice(0, 4).join('\n') + '\n');
    expectRefused(path, /failed verification: .*4 entries but its head records 5/);
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, error: { code: 'behind-head' } });
    const cli = await cliVerify('--file', path);
    expect(cli.code).not.toBe(0);
    expect(cli.err).toMatch(/FAILED verification.*cut off the end/);
  });

  it('7.11 truncated by many lines, to empty, or deleted with its head present', () => {
    for (const keep of [3, 1, 0]) {
      const path = fresh();
      const lines = writeLog(path, 6);
      writeFileSync(path, lines.slice(0, keep).join('\n') + (keep ? '\n' : ''));
      expectRefused(path, /cut off the end/);
      expect(verifyAuditLog(path).ok).toBe(false);
    }
    const path = fresh();
    writeLog(path, 3);
    truncateSync(path, 0);
    expectRefused(path, /cut off the end/);
    rmSync(path);
    expectRefused(path, /is missing, but its head records 3 entries/);
    expect(existsSync(path)).toBe(false);
  });

  it('7.11 a log replaced by another valid chain of the same length or longer is refused', () => {
    const path = fresh();
    writeLog(path, 3);
    for (const n of [3, 4]) {
      const other = fresh();
      writeLog(other, n, 'forged');
      writeFileSync(path, readFileSync(other));
      expectRefused(path, /not the one its head records/);
    }
  });

  it('7.11 head missing: a first run starts a log; a deleted head is refused until adopted', async () => {
    const path = fresh();
    // First run: neither log nor head — the head is written before the first entry.
    const log = openAuditLog(path);
    expect(existsSync(headFilePath(path))).toBe(true);
    log.append('connection', { state: 'open' });
    log.close();
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, value: { entries: 1 } });
    // An existing log without head: deleted head (or a log from before heads).
    rmSync(headFilePath(path));
    expectRefused(path, /head file .* is missing/);
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, error: { code: 'head-missing' } });
    expect((await cliVerify('--file', path)).code).not.toBe(0);
    // Checking a copy without its head is possible, and says what it cannot see.
    const copy = await cliVerify('--file', path, '--without-head-file');
    expect(copy.code).toBe(0);
    expect(copy.out).toMatch(/head file not checked/);
    // The operator adopts the current end after a look; then it opens and verifies again.
    expect(adoptAuditHead(path).entries).toBe(1);
    expect(() => adoptAuditHead(path)).toThrow(/already has a head/);
    const again = openAuditLog(path);
    again.append('connection', { state: 'closed' });
    again.close();
    const ok = await cliVerify('--file', path);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/2 entries, chain intact and reaches its head/);
  });

  it('7.11 an empty log without head is a first run; a corrupt head file is refused', () => {
    const path = fresh();
    writeFileSync(path, '');
    openAuditLog(path).close();
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, value: { entries: 0 } });
    writeLog(path, 2);
    writeFileSync(headFilePath(path), 'garbage');
    expectRefused(path, /no valid audit head/);
  });

  it('7.11 the head survives a torn update of one slot and follows deferred appends', () => {
    const path = fresh();
    const log = openAuditLog(path);
    log.append('approval', { ceremonyId: 'c1' });
    log.append('apdu-forwarded', { sw: '9000' }, { sync: false });
    log.append('apdu-forwarded', { sw: '9000' }, { sync: false });
    log.sync();
    log.append('decline', { ceremonyId: 'c2' });
    log.close();
    // A crash tore the slot written last (entries 4): the previous head (3) still stands …
    const head = readFileSync(headFilePath(path));
    const slot = head.subarray(0, 192).toString().includes('"entries":4') ? 0 : 4096;
    head.fill(0, slot, slot + 100);
    writeFileSync(headFilePath(path), head);
    expect(verifyAuditLog(path)).toMatchObject({ ok: true, value: { entries: 4 } });
    // … so cutting entry 4 is not seen, but cutting entry 3 is.
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, lines.slice(0, 2).join('\n') + '\n');
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, error: { code: 'behind-head' } });
  });
  it('7.11 entries written after the head (a crash before sync) are pinned on the next open', () => {
    const path = fresh();
    const crashed = openAuditLog(path);
    crashed.append('approval', { ceremonyId: 'c1' });
    crashed.append('apdu-forwarded', { sw: '9000' }, { sync: false });
    crashed.append('apdu-forwarded', { sw: '6982' }, { sync: false });
    // The process dies here: no sync, no close. The head still says 1.
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    expect(lines).toHaveLength(3);
    openAuditLog(path).close();
    writeFileSync(path, lines.slice(0, 2).join('\n') + '\n');
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, error: { code: 'behind-head' } });
  });
});

describe('logs written before heads and canonical lines', () => {
  /** A log as the earlier writer produced it: JSON.stringify, data keys in insertion order. */
  function legacyLog(path: string): string[] {
    const at = new Date('2026-11-01T00:00:00Z');
    const a = nextEntry(undefined, 'approval', { target: 'UTEMU1234500001', ceremonyId: 'c1' }, at);
    const b = nextEntry(a, 'decline', { reason: 'user', ceremonyId: 'c2' }, at);
    const lines = [a, b].map((e) => JSON.stringify(e));
    writeFileSync(path, lines.join('\n') + '\n');
    return lines;
  }

  it('7.11 adopt-head converts a legacy log in place: same entries and hashes, original kept', async () => {
    const path = fresh();
    const lines = legacyLog(path);
    expectRefused(path, /line 1 is not in the log's exact encoding.*audit adopt-head/);
    let out = '';
    const code = await custodianCli(
      ['audit', 'adopt-head', '--file', path],
      {},
      {
        out: (t) => void (out += t),
        err: () => undefined,
      },
    );
    expect(code).toBe(0);
    expect(out).toMatch(/2 entries verified; rewritten in the canonical encoding/);
    expect(readFileSync(`${path}.before-canonical`, 'utf8')).toBe(lines.join('\n') + '\n');
    const now = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    expect(now.map((l) => parseEntry(l))).toEqual(lines.map((l) => parseEntry(l)));
    expect(now[0]).toContain('"data":{"ceremonyId":"c1","target":"UTEMU1234500001"}');
    const log = openAuditLog(path);
    expect(log.head?.seq).toBe(2);
    log.close();
  });

  it('7.12 adopt-head refuses a legacy log with a line the earlier writer never wrote', () => {
    for (const forge of [
      (l: string) => `{"kind":"approval",${l.slice(1)}`,
      (l: string) => l.replace('"seq":2', '"seq": 2'),
      (l: string) => l.replace('"user"', '"\\u0075ser"'),
    ]) {
      const path = fresh();
      const lines = legacyLog(path);
      writeFileSync(path, [lines[0], forge(lines[1]!)].join('\n') + '\n');
      expect(() => adoptAuditHead(path)).toThrow(/line 2 is not in the log's exact encoding/);
      expect(existsSync(headFilePath(path))).toBe(false);
    }
  });
});
