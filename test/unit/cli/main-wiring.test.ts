import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditLog } from '../../../core/audit/audit-log';
import { main } from '../../../cli/main';

// The custodian commands live in cli/custodian and are registered by cli/main.ts; this goes
// through main() so a lost registration fails here and not only in the field.
function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(argv, {}, { out: (t) => void out.push(t), err: (t) => void err.push(t) }).then(
    (code) => ({ code, out: out.join(''), err: err.join('') }),
  );
}

describe('custodian main()', () => {
  it('registers the custodian commands next to readers and card', async () => {
    const r = await run(['--help']);
    for (const name of ['readers', 'card', 'key', 'enroll', 'watch', 'audit']) {
      expect(r.out).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
    }
  });

  it('audit verify passes on an intact log and fails after an edit', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cli-audit-')), 'audit.jsonl');
    const log = openAuditLog(file);
    log.append('approval', { ceremonyId: 'c1' });
    log.append('apdu-blocked', { header: '80 50 00 00', rule: 'initialize' });
    log.close();
    const good = await run(['audit', 'verify', '--file', file]);
    expect(good.code).toBe(0);
    expect(good.out).toContain('2 entries, chain intact');
    writeFileSync(file, readFileSync(file, 'utf8').replace('80 50 00 00', '80 68 01 73'));
    const bad = await run(['audit', 'verify', '--file', file]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/FAILED verification at line 2/);
  });
});
