import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineBackend } from '../../../../core/desktop-backend/engine-backend';
import { unwrap } from '../../../../shared/result';
import { emulatedCardAccess } from './emulated-cards';

// Issue 11 item 9 at the desktop backend: a torn last line used to stop it from starting.
describe('engine backend: torn audit log (issue 11 item 9)', () => {
  it('11.9 starts, moves the torn line aside, audits and reports the recovery', async () => {
    const h = mkdtempSync(join(tmpdir(), 'custodian-torn-'));
    const first = await createEngineBackend({ home: h, cards: emulatedCardAccess([]) });
    await first.stop();
    appendFileSync(join(h, 'audit.jsonl'), '{"seq":1,"time":"2026-');
    const logged: string[] = [];
    const b = await createEngineBackend({
      home: h,
      cards: emulatedCardAccess([]),
      log: (line: string) => void logged.push(line),
    });
    expect(logged.some((l) => /incomplete .* moved to .*audit\.jsonl\.torn-/.test(l))).toBe(true);
    expect(unwrap(await b.verifyAudit())).toMatchObject({ ok: true, entries: 1 });
    const entries = unwrap(await b.listAudit({}));
    expect(entries.map((e) => e.kind)).toEqual(['log-recovered']);
    expect(entries[0]!.summary).toMatch(
      /Audit log recovered: an incomplete last line \(22 bytes\)/,
    );
    await b.stop();
  });
});
