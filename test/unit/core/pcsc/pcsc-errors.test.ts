import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mapPcscError, pcscReturnCode, SCARD } from '../../../../core/pcsc/pcsc-errors';
import { parseFeatureList, scardCtlCode } from '../../../../core/pcsc/features';
import { ReaderTracker } from '../../../../core/pcsc/reader-tracker';
import { CardTransportError } from '../../../../core/card/transport';
import { pcscError } from './fake-pcsclite';
import { messageOf } from '../../../../shared/error-message';

describe('mapPcscError', () => {
  it('extracts the return code from pcsclite messages', () => {
    expect(
      pcscReturnCode(new Error(pcscError('SCardConnect', 'No smart card inserted', 0x8010000c))),
    ).toBe(0x8010000c);
    expect(pcscReturnCode(new Error('Card Reader not connected'))).toBeUndefined();
    expect(pcscReturnCode(42)).toBeUndefined();
  });

  it.each([
    [SCARD.E_NO_SERVICE, 'no-service'],
    [SCARD.E_SERVICE_STOPPED, 'no-service'],
    [SCARD.E_NO_READERS_AVAILABLE, 'no-reader'],
    [SCARD.E_UNKNOWN_READER, 'no-reader'],
    [SCARD.E_NO_SMARTCARD, 'no-card'],
    [SCARD.W_REMOVED_CARD, 'card-removed'],
    [SCARD.W_RESET_CARD, 'card-removed'],
    [SCARD.E_SHARING_VIOLATION, 'sharing-violation'],
    [SCARD.E_TIMEOUT, 'timeout'],
    [SCARD.E_INVALID_HANDLE, 'closed'],
    [SCARD.F_COMM_ERROR, 'io'],
    [0x80100001, 'io'],
  ] as const)('maps 0x%s to %s', (rc, code) => {
    const e = mapPcscError(new Error(pcscError('SCardX', 'text', rc)), 'do it on "R"');
    expect(e).toBeInstanceOf(CardTransportError);
    expect(e.code).toBe(code);
    if (code !== 'no-service') expect(e.message).toMatch(/^do it on "R": /);
    expect(messageOf(e.cause)).toContain('SCardX');
  });

  it('keeps CardTransportErrors and never throws on odd input', () => {
    const orig = new CardTransportError('timeout', 'x');
    expect(mapPcscError(orig, 'op')).toBe(orig);
    expect(mapPcscError(Object.create(null), 'op').message).toBe('op: [object Object]');
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true }), (x) => {
        expect(mapPcscError(x, 'op')).toBeInstanceOf(CardTransportError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseFeatureList', () => {
  it('parses entries and rejects malformed lists', () => {
    const r = parseFeatureList(Uint8Array.of(0x12, 4, 0x42, 0x33, 0x00, 0x12));
    expect(r.ok && [...r.value]).toEqual([[0x12, 0x42330012]]);
    expect(parseFeatureList(new Uint8Array()).ok).toBe(true);
    expect(parseFeatureList(Uint8Array.of(0x12)).ok).toBe(false);
    expect(parseFeatureList(Uint8Array.of(0x12, 4, 0))).toMatchObject({ ok: false });
  });

  it('round-trips arbitrary feature maps', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.integer({ min: 0, max: 255 }).map(String), fc.nat({ max: 0xffffffff })),
        (d) => {
          const entries = Object.entries(d).map(([k, v]) => [Number(k), v] as const);
          const bytes = Uint8Array.from(
            entries.flatMap(([t, v]) => [
              t,
              4,
              v >>> 24,
              (v >>> 16) & 0xff,
              (v >>> 8) & 0xff,
              v & 0xff,
            ]),
          );
          const r = parseFeatureList(bytes);
          expect(r.ok && [...r.value]).toEqual(entries);
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(typeof parseFeatureList(b).ok).toBe('boolean');
      }),
    );
  });

  it('computes control codes per platform', () => {
    expect(scardCtlCode(3400, 'linux')).toBe(0x42000d48);
    expect(scardCtlCode(3400, 'win32')).toBe(0x00313520);
  });
});

describe('ReaderTracker', () => {
  it('waits for removal and times out when the card stays', async () => {
    const t = new ReaderTracker();
    t.setReaders(['R']);
    t.status('R', true, 1, Uint8Array.of(0x3b, 0));
    expect(await t.waitForRemoval('R', 20)).toBe(false);
    const waiting = t.waitForRemoval('R', 1000);
    t.status('R', false, 2, undefined);
    expect(await waiting).toBe(true);
    expect(await t.waitForRemoval('R', 1)).toBe(true);
  });

  it('waits for the first ATR and returns empty when none comes', async () => {
    const t = new ReaderTracker();
    t.setReaders(['R']);
    const atr = t.atrOf('R', 1000);
    t.status('R', true, 1, Uint8Array.of(0x3b, 0));
    expect(await atr).toEqual(Uint8Array.of(0x3b, 0));
    expect(await t.atrOf('other', 10)).toEqual(new Uint8Array());
  });
});
