import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditLog, verifyAuditFile } from '../../../../core/audit/audit-log';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.jsonl');

function writeThree(path: string) {
  const log = openAuditLog(path, () => new Date('2026-11-27T00:00:00Z'));
  log.append('approval', { ceremonyId: 'c1', target: 'UTEMU0000100001' });
  log.append('apdu-forwarded', { header: '80 68 01 73', sw: '9000' });
  log.append('apdu-blocked', { header: '00 20 00 81', reason: 'VERIFY with data' });
  log.close();
}

describe('audit log', () => {
  it('appends a verifiable chain and reopens it', () => {
    const path = fresh();
    writeThree(path);
    const v = verifyAuditFile(path);
    expect(v.ok && v.value.entries).toBe(3);
    const log = openAuditLog(path);
    expect(log.head?.seq).toBe(3);
    log.append('decline', { ceremonyId: 'c2' });
    log.close();
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, value: { entries: 4 } });
  });

  it('detects an edited, removed, reordered or inserted line', () => {
    const path = fresh();
    writeThree(path);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const check = (content: string[]) => {
      writeFileSync(path, content.join('\n') + '\n');
      return verifyAuditFile(path);
    };
    expect(check([lines[0]!, lines[1]!.replace('9000', '6982'), lines[2]!])).toMatchObject({
      ok: false,
      error: { line: 2, code: 'bad-hash' },
    });
    expect(check([lines[0]!, lines[2]!])).toMatchObject({
      ok: false,
      error: { line: 2, code: 'broken-chain' },
    });
    expect(check([lines[1]!, lines[0]!, lines[2]!])).toMatchObject({
      ok: false,
      error: { line: 1 },
    });
    expect(check([lines[0]!, '{"seq":2}', lines[1]!, lines[2]!])).toMatchObject({
      ok: false,
      error: { line: 2, code: 'malformed' },
    });
  });

  it('detects removal at the end only against a pinned head', () => {
    const path = fresh();
    writeThree(path);
    const full = verifyAuditFile(path);
    const head = full.ok ? full.value.head : '';
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, lines.slice(0, 2).join('\n') + '\n');
    expect(verifyAuditFile(path).ok).toBe(true);
    expect(verifyAuditFile(path, head)).toMatchObject({
      ok: false,
      error: { code: 'broken-chain' },
    });
  });

  it('writes deferred entries at once and keeps the chain across sync and reopen', () => {
    const path = fresh();
    const log = openAuditLog(path);
    log.append('approval', { ceremonyId: 'c1' });
    log.append('apdu-forwarded', { header: '80 68 01 73', sw: '9000' }, { sync: false });
    log.append('apdu-blocked', { header: '80 50 00 00' }, { sync: false });
    // Written before any sync: another reader (or a crash of this process) sees them already.
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, value: { entries: 3 } });
    log.sync();
    log.sync(); // nothing pending: a no-op
    log.append('decline', { ceremonyId: 'c2' }, { sync: false });
    log.close(); // syncs what is pending
    expect(() => log.sync()).not.toThrow();
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, value: { entries: 4 } });
    expect(openAuditLog(path).head?.seq).toBe(4);
  });

  it('refuses to append to a tampered log', () => {
    const path = fresh();
    writeThree(path);
    writeFileSync(path, readFileSync(path, 'utf8').replace('c1', 'c9'));
    expect(() => openAuditLog(path)).toThrow(/failed verification/);
  });
});
