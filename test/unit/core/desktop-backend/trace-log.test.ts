import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTraceLog, traceLineOf } from '../../../../core/desktop-backend/trace-log';
import type { AuditData, AuditKind } from '../../../../shared/audit/audit-chain';
import { traceEntrySchema } from '../../../../shared/ipc/model';

const T = new Date('2026-01-02T03:04:05Z');
const SIGN = Uint8Array.of(0x80, 0x68, 0x01, 0x73, 0x02, 0xab, 0xcd);
const lookup = (c: string, o: string, i: number) =>
  c === 'cer-1' && o === 'off-1' && i === 0 ? SIGN : undefined;

describe('APDU trace from the audit stream', () => {
  it('a forwarded command becomes a line with the script bytes and the rule text', () => {
    const line = traceLineOf(
      'apdu-forwarded',
      {
        ceremonyId: 'cer-1',
        offerId: 'off-1',
        index: 0,
        header: '80 68 01 73',
        rule: 'sign-pka-input',
        lc: 3,
        sw: '9000',
      },
      7,
      T,
      lookup,
    );
    expect(line).toEqual({
      seq: 7,
      time: '2026-01-02T03:04:05.000Z',
      ceremonyId: 'cer-1',
      decision: 'forwarded',
      header: '80 68 01 73',
      rule: 'sign-pka-input',
      reason: expect.stringContaining('PKA signature') as unknown as string,
      command: '80680173' + '02ABCD',
      sw: 0x9000,
    });
    expect(traceEntrySchema.safeParse(line).success).toBe(true);
  });

  it('a blocked command keeps the deny reason; unknown offers have no command bytes', () => {
    const line = traceLineOf(
      'apdu-blocked',
      {
        ceremonyId: 'cer-9',
        offerId: 'off-9',
        index: 0,
        header: '00 20 00 81',
        rule: 'verify-with-data',
        reason: 'the PIN is never sent by a script',
        sw: '6986',
      },
      0,
      T,
      lookup,
    );
    expect(line).toMatchObject({
      decision: 'blocked',
      reason: 'the PIN is never sent by a script',
      command: '',
      sw: 0x6986,
    });
  });

  it('other audit kinds and malformed data make no line', () => {
    expect(traceLineOf('approval', { ceremonyId: 'c' }, 0, T, lookup)).toBeUndefined();
    expect(
      traceLineOf('apdu-forwarded', { header: '80 68 01 73', rule: 'x', sw: 'zz' }, 0, T, lookup),
    ).toBeUndefined();
    expect(traceLineOf('apdu-forwarded', { rule: 'x', sw: '9000' }, 0, T, lookup)).toBeUndefined();
  });

  it('drops an invalid ceremony id instead of emitting a line the IPC schema rejects', () => {
    // fast-check counterexample (seed -92004748): an empty ceremonyId was copied into the line.
    const data = { ceremonyId: '', header: '', rule: ' ', sw: '9000' } as AuditData;
    const line = traceLineOf('apdu-forwarded', data, 1, T, lookup);
    expect(line).toBeDefined();
    expect(line?.ceremonyId).toBeUndefined();
    expect(traceEntrySchema.safeParse(line).success).toBe(true);
  });

  it('any audit data gives no line or a line the IPC schema accepts (fuzz)', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 700 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    const data = fc.record(
      {
        ceremonyId: value,
        offerId: value,
        index: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.string()),
        header: value,
        rule: value,
        reason: value,
        sw: fc.oneof(fc.constantFrom('9000', '6986', '63C2', 'FFFF'), fc.string({ maxLength: 6 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.constantFrom<AuditKind>('apdu-forwarded', 'apdu-blocked', 'error'),
        data,
        (kind, d) => {
          const line = traceLineOf(kind, d as AuditData, 1, T, lookup);
          if (line !== undefined) expect(traceEntrySchema.safeParse(line).success).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the tee writes through first, keeps a bounded ring and tells listeners', () => {
    const written: AuditKind[] = [];
    const log = createTraceLog(lookup, { capacity: 3, now: () => T });
    const seen: number[] = [];
    log.on((e) => void seen.push(e.seq));
    log.on(() => {
      throw new Error('a broken listener does not break the audit path');
    });
    const sink = log.tee({ append: (kind) => void written.push(kind) });
    for (let i = 0; i < 5; i++) {
      sink.append('apdu-forwarded', {
        header: '80 68 01 73',
        rule: 'sign-pka-input',
        sw: '9000',
        ceremonyId: 'cer-1',
        offerId: 'off-1',
        index: 0,
      });
    }
    sink.append('approval', { ceremonyId: 'cer-1' });
    expect(written).toHaveLength(6);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(log.list().map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(log.list(2).map((e) => e.seq)).toEqual([3, 4]);
    expect(log.list(0)).toEqual([]);
  });

  it('an entry the audit log refused is not traced (the engine sees the failure)', () => {
    const log = createTraceLog(lookup);
    const sink = log.tee({
      append: () => {
        throw new Error('disk full');
      },
    });
    expect(() =>
      sink.append('apdu-forwarded', { header: '80 68 01 73', rule: 'r', sw: '9000' }),
    ).toThrow('disk full');
    expect(log.list()).toEqual([]);
  });
});
