import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FEATURE,
  GET_FEATURE_REQUEST,
  parseFeatures,
  readFeatures,
  scardCtlCode,
} from '../../../../core/pinpad/features';
import {
  buildVerifyPinDirect,
  hasPinpad,
  pinOutcomeFromSw,
  verifyPinOnPinpad,
} from '../../../../core/pinpad/verify-pin-direct';

/** A fake reader: a real PIN-pad reader is not available in this environment. */
function fakeReader(features: Uint8Array | 'reject', answer: Uint8Array) {
  const calls: { code: number; data: Uint8Array }[] = [];
  return {
    calls,
    async control(code: number, data: Uint8Array): Promise<Uint8Array> {
      calls.push({ code, data: data.slice() });
      if (code === scardCtlCode(GET_FEATURE_REQUEST, 'linux')) {
        if (features === 'reject') throw new Error('SCARD_E_UNSUPPORTED_FEATURE');
        return features;
      }
      return answer;
    },
  };
}

const verifyDirectCode = 0x42330006;
const featureList = Uint8Array.of(
  FEATURE.VERIFY_PIN_DIRECT,
  4,
  0x42,
  0x33,
  0x00,
  0x06,
  FEATURE.IFD_PIN_PROPERTIES,
  4,
  0x42,
  0x33,
  0x00,
  0x0a,
);

describe('PC/SC part 10 features', () => {
  it('computes SCARD_CTL_CODE per platform', () => {
    expect(scardCtlCode(3400, 'linux')).toBe(0x42000d48);
    expect(scardCtlCode(3400, 'darwin')).toBe(0x42000d48);
    expect(scardCtlCode(3400, 'win32')).toBe(0x00313520);
    expect(() => scardCtlCode(-1, 'linux')).toThrow(RangeError);
  });

  it('parses the GET_FEATURE_REQUEST answer', () => {
    const r = parseFeatures(featureList);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.get(FEATURE.VERIFY_PIN_DIRECT)).toBe(verifyDirectCode);
    expect(r.value.get(FEATURE.IFD_PIN_PROPERTIES)).toBe(0x4233000a);
    expect(r.value.size).toBe(2);
  });

  it('rejects bad lengths, repeated and zero tags', () => {
    expect(parseFeatures(Uint8Array.of(6, 4, 0, 0, 0)).ok).toBe(false);
    expect(parseFeatures(Uint8Array.of(6, 3, 0, 0, 0, 0)).ok).toBe(false);
    expect(parseFeatures(Uint8Array.of(6, 4, 0, 0, 0, 1, 6, 4, 0, 0, 0, 2)).ok).toBe(false);
    expect(parseFeatures(Uint8Array.of(0, 4, 0, 0, 0, 1)).ok).toBe(false);
    expect(parseFeatures(new Uint8Array(2048)).ok).toBe(false);
  });

  it('never throws on arbitrary reader answers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = parseFeatures(bytes);
        if (r.ok) for (const code of r.value.values()) expect(code).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('treats a reader that rejects the request as one without features', async () => {
    const r = await readFeatures(fakeReader('reject', new Uint8Array(0)), 'linux');
    expect(r.ok && r.value.size).toBe(0);
  });
});

describe('FEATURE_VERIFY_PIN_DIRECT', () => {
  it('builds the PIN_VERIFY_STRUCTURE for the SmartCard-HSM user PIN', () => {
    const r = buildVerifyPinDirect({ timeoutSeconds: 30 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const s = r.value;
    expect(s[0]).toBe(30); // bTimerOut
    expect(s[2]).toBe(0x82); // bytes, ASCII
    expect(s[3]).toBe(0x00); // bmPINBlockString
    expect(s[5]).toBe(16); // max
    expect(s[6]).toBe(6); // min
    expect(s[7]).toBe(0x02); // validation key
    expect([s[9], s[10]]).toEqual([0x09, 0x04]);
    const dataLength = s[15]! | (s[16]! << 8) | (s[17]! << 16) | (s[18]! << 24);
    const apdu = s.subarray(19);
    expect(dataLength).toBe(apdu.length);
    // The VERIFY header without any PIN byte (the reader inserts the PIN).
    expect(Array.from(apdu)).toEqual([0x00, 0x20, 0x00, 0x81, 0x00]);
  });

  it('refuses lengths outside 6–16 and bad timeouts', () => {
    expect(buildVerifyPinDirect({ minLength: 4 }).ok).toBe(false);
    expect(buildVerifyPinDirect({ maxLength: 17 }).ok).toBe(false);
    expect(buildVerifyPinDirect({ minLength: 10, maxLength: 8 }).ok).toBe(false);
    expect(buildVerifyPinDirect({ timeoutSeconds: 300 }).ok).toBe(false);
  });

  it('maps the answer status words', () => {
    expect(pinOutcomeFromSw(0x9000)).toEqual({ kind: 'verified' });
    expect(pinOutcomeFromSw(0x63c2)).toEqual({ kind: 'wrong-pin', retries: 2 });
    expect(pinOutcomeFromSw(0x63c0)).toEqual({ kind: 'blocked' });
    expect(pinOutcomeFromSw(0x6983)).toEqual({ kind: 'blocked' });
    expect(pinOutcomeFromSw(0x6400)).toEqual({ kind: 'timeout' });
    expect(pinOutcomeFromSw(0x6401)).toEqual({ kind: 'cancelled' });
    expect(pinOutcomeFromSw(0x6403)).toEqual({ kind: 'bad-length' });
    expect(pinOutcomeFromSw(0x6f00)).toEqual({ kind: 'card-error', sw: 0x6f00 });
  });

  it('sends the structure once to the announced control code', async () => {
    for (const [answer, kind] of [
      [Uint8Array.of(0x90, 0x00), 'verified'],
      [Uint8Array.of(0x63, 0xc1), 'wrong-pin'],
      [Uint8Array.of(0x64, 0x01), 'cancelled'],
      [Uint8Array.of(0x64, 0x00), 'timeout'],
    ] as const) {
      const reader = fakeReader(featureList, answer);
      expect(await hasPinpad(reader)).toBe(true);
      const r = await verifyPinOnPinpad(reader);
      expect(r.ok && r.value.kind).toBe(kind);
      const verifyCalls = reader.calls.filter((c) => c.code === verifyDirectCode);
      expect(verifyCalls).toHaveLength(1); // never retried
      expect(Array.from(verifyCalls[0]!.data.subarray(19))).toEqual([0, 0x20, 0, 0x81, 0]);
    }
  });

  it('uses a transport-provided feature map', async () => {
    const calls: number[] = [];
    const reader = {
      features: async () => new Map([[FEATURE.VERIFY_PIN_DIRECT, 0x1234]]),
      control: async (code: number) => {
        calls.push(code);
        return Uint8Array.of(0x90, 0x00);
      },
    };
    const r = await verifyPinOnPinpad(reader);
    expect(r.ok && r.value.kind).toBe('verified');
    expect(calls).toEqual([0x1234]);
  });

  it('reports a reader without a PIN pad and short answers', async () => {
    const noPad = fakeReader(
      Uint8Array.of(FEATURE.IFD_PIN_PROPERTIES, 4, 0, 0, 0, 1),
      Uint8Array.of(),
    );
    expect(await hasPinpad(noPad)).toBe(false);
    const r = await verifyPinOnPinpad(noPad);
    expect(!r.ok && r.error.code).toBe('no-pinpad');
    const short = fakeReader(featureList, Uint8Array.of(0x90));
    const s = await verifyPinOnPinpad(short);
    expect(!s.ok && s.error.code).toBe('malformed-response');
  });
});
