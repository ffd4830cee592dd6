import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiBytes, bytesEqual, concatBytes } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import {
  deviceChain,
  ecTemplate,
  generateKey,
  importCert,
  initData,
  newCard,
  parseRequest,
  USER_PIN,
} from './helpers';

/** Valid commands of every kind the card knows, as seeds for mutation. */
const SEEDS: Uint8Array[] = [
  Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, 0x0b, ...SC_HSM_AID),
  Uint8Array.of(0x00, 0x20, 0x00, 0x81),
  Uint8Array.of(0x00, 0x20, 0x00, 0x81, 0x06, ...USER_PIN),
  Uint8Array.of(0x00, 0x24, 0x00, 0x81, 0x0c, ...USER_PIN, ...USER_PIN),
  Uint8Array.of(0x00, 0x2c, 0x01, 0x81, 0x08, 1, 2, 3, 4, 5, 6, 7, 8),
  Uint8Array.of(0x80, 0x50, 0x00, 0x00, 0x00),
  (() => {
    const d = initData({ pka: [3, 2], dkek: 1 });
    return Uint8Array.of(0x80, 0x50, 0x00, 0x00, d.length, ...d);
  })(),
  Uint8Array.of(0x80, 0x52, 0x00, 0x00, 0x00),
  Uint8Array.of(0x80, 0x54, 0x00, 0x00, 0x04),
  Uint8Array.of(0x80, 0x54, 0x02, 0x00, 0x00),
  Uint8Array.of(0x80, 0x58, 0x00, 0x00, 0x00, 0x00, 0x00),
  Uint8Array.of(0x00, 0xb1, 0x2f, 0x02, 0x00, 0x00, 0x04, 0x54, 0x02, 0x00, 0x00, 0x00, 0x00),
  Uint8Array.of(0x00, 0xd7, 0xc4, 0x01, 0x09, 0x54, 0x02, 0x00, 0x00, 0x53, 0x03, 1, 2, 3),
  Uint8Array.of(0x00, 0xe4, 0x02, 0x00, 0x02, 0xc4, 0x01),
  Uint8Array.of(0x00, 0xa4, 0x00, 0x0c, 0x02, 0x2f, 0x02),
  Uint8Array.of(0x00, 0xb0, 0x00, 0x00, 0x10),
  (() => {
    const t = ecTemplate('UTFUZZ0000001');
    return Uint8Array.of(0x00, 0x46, 0x01, 0x00, 0x00, t.length >> 8, t.length & 0xff, ...t, 0, 0);
  })(),
  Uint8Array.of(0x80, 0x68, 0x01, 0x73, 0x03, 1, 2, 3, 0x00),
  Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x08),
  concatBytes(
    Uint8Array.of(0x00, 0x22, 0x81, 0xa4, 0x0f),
    encodeTlv(0x83, asciiBytes('UTCUST0000001')),
  ),
  concatBytes(
    Uint8Array.of(0x00, 0x22, 0x81, 0xb6, 0x11),
    encodeTlv(0x83, asciiBytes('UTCUSTSRCA00001')),
  ),
  Uint8Array.of(0x00, 0x2a, 0x00, 0xbe, 0x05, 0x7f, 0x4e, 0x00, 0x5f, 0x37),
  Uint8Array.of(0x00, 0x82, 0x00, 0x00, 0x40, ...new Uint8Array(64)),
  Uint8Array.of(0x00, 0xc0, 0x00, 0x00, 0x00),
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 8 }) }),
);

type Mutation = {
  kind: 'flip' | 'set' | 'truncate' | 'append';
  at?: number;
  bit?: number;
  value?: number;
  bytes?: Uint8Array;
};

function mutate(seed: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b: Uint8Array = seed.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const at = (m.at ?? 0) % b.length;
    if (m.kind === 'flip') b[at]! ^= 1 << m.bit!;
    else if (m.kind === 'set') b[at] = m.value!;
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else b = concatBytes(b, m.bytes!);
  }
  return b;
}

describe('fuzz', () => {
  it('never throws and always answers ≥ 2 bytes for 20,000 random and mutated APDUs', () => {
    const h = newCard();
    // Start from a usable device so deep code paths are reachable.
    h.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, initData({ pka: [2, 1] }));
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, USER_PIN);
    const apdu = fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 4 }))
          .map(([seed, ms]) => mutate(seed, ms)),
      },
      { weight: 1, arbitrary: fc.constantFrom(...SEEDS) },
    );
    let count = 0;
    fc.assert(
      fc.property(apdu, (bytes) => {
        count++;
        const r = h.card.process(bytes);
        expect(r).toBeInstanceOf(Uint8Array);
        expect(r.length).toBeGreaterThanOrEqual(2);
        const sw = (r[r.length - 2]! << 8) | r[r.length - 1]!;
        expect(sw).not.toBe(0x6f00); // internal errors would hide real bugs
      }),
      { numRuns: 20_000 },
    );
    expect(count).toBe(20_000);
  }, 120_000);

  it('never registers a mutated authenticated request', () => {
    const target = newCard();
    target.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, initData({ pin: null, pka: [2, 1] }));
    const custodian = newCard();
    custodian.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, initData());
    custodian.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, USER_PIN);
    const request = parseRequest(generateKey(custodian, 1, 'UTFUZZCUST001'));
    const { device, dica } = deviceChain(custodian);
    importCert(target, dica);
    importCert(target, device);
    target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(request.outerCar)));
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        const content = mutate(request.content, ms);
        fc.pre(content.length > 0 && !bytesEqual(content, request.content));
        const r = target.send(0x80, 0x54, 0x00, 0x00, content, 4);
        expect([0x6a80, 0x6985, 0x6700]).toContain(r.sw);
        expect(target.state.pka!.slots.length).toBe(0);
      }),
      { numRuns: 400 },
    );
    // The untouched request still registers: the failures above were the mutations.
    target.expectSw(0x9000, 0x80, 0x54, 0x00, 0x00, request.content, 4);
  });
});
