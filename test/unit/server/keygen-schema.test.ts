import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../server/api/http-util';
import { keygenSchema, parse } from '../../../server/api/schemas';
import { encodePrkd, parsePrkd } from '../../../shared/sc-hsm/prkd';

type Attempt =
  | { ok: true; value: ReturnType<typeof keygenSchema.parse> }
  | { ok: false; error: unknown; value?: undefined };
const attempt = (body: unknown): Attempt => {
  try {
    return { ok: true, value: parse(keygenSchema, body) };
  } catch (e) {
    return { ok: false, error: e };
  }
};

describe('POST /api/targets/:t/keys body', () => {
  it('takes a label and a 256-bit curve, brainpoolP256r1 by default', () => {
    expect(attempt({ label: 'release' }).value).toEqual({
      label: 'release',
      curve: 'brainpoolP256r1',
    });
    expect(attempt({ label: 'fw/2026 q1', curve: 'secp256r1' }).value).toEqual({
      label: 'fw/2026 q1',
      curve: 'secp256r1',
    });
    expect(attempt({ label: '1234' }).value?.label).toBe('1234');
  });

  it('refuses labels that read as a key id, bad curves and unknown fields with a 400', () => {
    for (const body of [
      { label: '7' },
      { label: '255' },
      { label: '' },
      { label: '-x' },
      { label: 'x'.repeat(65) },
      { label: 'tab\there' },
      { label: 'ünïcode' },
      { label: 'ok', curve: 'secp384r1' },
      { label: 'ok', curve: 'brainpoolP512r1' },
      { label: 'ok', keyId: 3 },
      { curve: 'secp256r1' },
      null,
      'release',
    ]) {
      const r = attempt(body);
      expect(r.ok, JSON.stringify(body)).toBe(false);
      if (r.ok) continue;
      expect(r.error).toBeInstanceOf(HttpError);
      expect((r.error as HttpError).status).toBe(400);
    }
  });

  it('everything it accepts is a PRKD label that reads back and never looks like an id', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[ -~]{1,70}$/)),
        (label) => {
          const r = attempt({ label });
          if (!r.ok) {
            expect(r.error).toBeInstanceOf(HttpError);
            return;
          }
          expect(/^\d{1,3}$/.test(r.value.label)).toBe(false);
          const prkd = encodePrkd({ label: r.value.label, id: Uint8Array.of(1), size: 256 });
          const back = parsePrkd(prkd);
          expect(back.ok && back.value.label).toBe(label);
        },
      ),
      { numRuns: 500 },
    );
  });
});
