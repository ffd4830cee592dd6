import { appendFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSigningJournal, type JournalRow } from '../../../../core/custodian/signing-journal';

const row = (over: Partial<JournalRow> = {}): JournalRow => ({
  offerId: 'off-1',
  ceremonyId: 'cer-1',
  deviceId: 'UTEMU1234500001',
  challenge: '0102030405060708',
  state: 'intent',
  expiresAt: new Date(Date.now() + 600_000).toISOString(),
  ...over,
});

describe('11.8 signing journal', () => {
  it('11.8 survives a reopen (intent, signed, aborted), by offer and by signed input', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
    const j = fileSigningJournal(path);
    j.record(row());
    j.record(row({ offerId: 'off-2', challenge: '1111111111111111' }));
    j.record(row({ offerId: 'off-2', challenge: '1111111111111111', state: 'aborted' }));
    j.record(
      row({
        offerId: 'off-3',
        challenge: '2222222222222222',
        state: 'signed',
        results: [{ rapdu: '9000' }],
      }),
    );
    appendFileSync(path, '{"offerId":"off-9","cer'); // a torn last line: never acted on
    const again = fileSigningJournal(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(again.byOffer('off-1')?.state).toBe('intent');
    expect(again.byInput('UTEMU1234500001', '0102030405060708')?.offerId).toBe('off-1');
    expect(again.byInput('UTEMU1234500001', '0102030405060708'.toUpperCase())?.offerId).toBe(
      'off-1',
    );
    expect(again.byOffer('off-2')?.state).toBe('aborted');
    expect(again.byInput('UTEMU1234500001', '1111111111111111')).toBeUndefined();
    expect(again.byOffer('off-3')).toMatchObject({ state: 'signed', results: [{ rapdu: '9000' }] });
    expect(again.byOffer('off-9')).toBeUndefined();
    // Device id and challenge cannot be shifted into each other.
    expect(again.byInput('UTEMU123450000', '10102030405060708')).toBeUndefined();
  });

  it('11.8 drops rows long past their expiry on open', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
    fileSigningJournal(path).record(row({ expiresAt: '2020-01-01T00:00:00Z' }));
    expect(fileSigningJournal(path).byOffer('off-1')).toBeUndefined();
  });
});
