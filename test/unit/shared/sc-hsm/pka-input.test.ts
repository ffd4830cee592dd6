import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asciiBytes,
  bytesEqual,
  concatBytes,
  fromHex,
  toHex,
} from '../../../../shared/codec/bytes';
import { command, encodeCommandApdu } from '../../../../shared/codec/apdu';
import { anchorFromCvc, type TrustAnchor } from '../../../../shared/cvc/chain';
import { createApduFirewall } from '../../../../shared/policy/firewall';
import { checkOffer } from '../../../../shared/policy/offer-check';
import { encodeServerMessage, parseServerMessage } from '../../../../shared/protocol/codec';
import type { OfferMessage } from '../../../../shared/protocol/server-messages';
import { buildPkaSignatureInput, PKA_CHALLENGE_BYTES } from '../../../../shared/sc-hsm/pka-input';
import { buildSyntheticChain, type SyntheticChain } from '../../../fixtures/cvc/synthetic';

// Issue 7 item 6: CHR(T) ‖ challenge has no separator and device CHRs differ in length, so a
// variable challenge length lets the input shown for one device authenticate at another.

const C = fromHex('5a17c3e09b2d4f86');
const shown = { chr: asciiBytes('UTEMU1234500001'), challenge: concatBytes(asciiBytes('2'), C) };
const actual = { chr: asciiBytes('UTEMU12345000012'), challenge: C };

const printableChr = fc
  .array(fc.integer({ min: 0x20, max: 0x7e }), { minLength: 1, maxLength: 16 })
  .map((a) => Uint8Array.from(a));
const challengeOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

describe('issue 7 item 6: the PKA signature input is unambiguous', () => {
  it('7.6 the reported pair: "UTEMU1234500001" with "2" ‖ c cannot be built', () => {
    expect(bytesEqual(concatBytes(shown.chr, shown.challenge), concatBytes(actual.chr, C))).toBe(
      true,
    );
    expect(() => buildPkaSignatureInput(shown.chr, shown.challenge)).toThrow(/exactly 8 bytes/);
    expect(toHex(buildPkaSignatureInput(actual.chr, actual.challenge))).toBe(
      toHex(concatBytes(actual.chr, C)),
    );
  });

  it('7.6 every challenge length but 8 is refused', () => {
    expect(PKA_CHALLENGE_BYTES).toBe(8);
    for (let n = 0; n <= 300; n++) {
      const build = () => buildPkaSignatureInput(asciiBytes('UTEMU1234500001'), new Uint8Array(n));
      if (n === 8) expect(build).not.toThrow();
      else expect(build, `challenge of ${n} bytes`).toThrow();
    }
  });

  it('7.6 equal inputs mean equal device and challenge (any CHRs, any built inputs)', () => {
    fc.assert(
      fc.property(
        printableChr,
        fc.integer({ min: 1, max: 256 }),
        printableChr,
        fc.integer({ min: 1, max: 256 }),
        fc
          .infiniteStream(fc.uint8Array({ minLength: 256, maxLength: 256 }))
          .map((s) => s.next().value),
        (chr1, n1, chr2, n2, pool) => {
          let a: Uint8Array, b: Uint8Array;
          try {
            a = buildPkaSignatureInput(chr1, pool.subarray(0, n1));
            b = buildPkaSignatureInput(chr2, pool.subarray(256 - n2));
          } catch {
            return true; // refused: nothing to confuse
          }
          if (!bytesEqual(a, b)) return true;
          return (
            bytesEqual(chr1, chr2) && bytesEqual(pool.subarray(0, n1), pool.subarray(256 - n2))
          );
        },
      ),
      { numRuns: 2000 },
    );
    // And the construction that the property searches for, built directly.
    fc.assert(
      fc.property(
        printableChr,
        fc.integer({ min: 0x20, max: 0x7e }),
        challengeOf(8),
        (chr, ch, c) => {
          if (chr.length >= 16) return true;
          const longer = concatBytes(chr, Uint8Array.of(ch));
          const ok = (f: () => Uint8Array) => {
            try {
              return f();
            } catch {
              return undefined;
            }
          };
          const x = ok(() => buildPkaSignatureInput(chr, concatBytes(Uint8Array.of(ch), c)));
          const y = ok(() => buildPkaSignatureInput(longer, c));
          return x === undefined || y === undefined || !bytesEqual(x, y);
        },
      ),
    );
  });

  it('7.6 the firewall refuses an approval whose challenge is not 8 bytes', () => {
    for (const n of [1, 7, 9, 16, 32, 256]) {
      const approval = {
        ceremonyId: 'cer-1',
        targetDeviceChr: shown.chr,
        challenge: new Uint8Array(n),
        keyId: 3,
      };
      expect(() => createApduFirewall(approval), `${n} bytes`).toThrow();
    }
  });
});

describe('issue 7 item 6: every place that accepts a challenge wants exactly 8 bytes', () => {
  let s: SyntheticChain;
  let anchors: TrustAnchor[];
  beforeAll(() => {
    s = buildSyntheticChain({ deviceChr: 'UTEMU1234500001' });
    const a = anchorFromCvc(s.root, 'test root');
    if (!a.ok) throw new Error(a.error.message);
    anchors = [a.value];
  });

  const signApdu = (input: Uint8Array) => {
    const r = encodeCommandApdu(command(0x80, 0x68, 3, 0x73, input, 256));
    if (!r.ok) throw new Error(r.error.message);
    return toHex(r.value);
  };
  const offerWith = (challenge: Uint8Array): OfferMessage => ({
    v: 1,
    type: 'offer',
    ceremonyId: 'cer-1',
    offerId: 'off-1',
    target: { label: 'Issuing CA', deviceId: s.chrs.device, chain: toHex(s.ef2f02) },
    purpose: 'Quarterly CRL',
    requester: 'Alice',
    quorum: { n: 2, m: 3 },
    progress: { authenticated: 0, approvedBy: [] },
    expiresAt: '2026-11-27T01:10:00Z',
    challenge: toHex(challenge),
    key: { chr: 'UTCC120935500001', keyId: 3 },
    script: { apdus: [signApdu(concatBytes(asciiBytes(s.chrs.device), challenge))] },
  });
  const check = (o: OfferMessage) =>
    checkOffer(o, {
      anchors,
      now: new Date('2026-11-27T01:00:00Z'),
      ownKey: { chr: 'UTCC120935500001', keyId: 3 },
      decidedOfferIds: new Set<string>(),
    });

  it('7.6 the offer check accepts 8 bytes and refuses every other length', () => {
    expect(check(offerWith(C)).acceptable).toBe(true);
    for (const n of [9, 10, 16, 32, 64, 255, 256]) {
      const v = check(offerWith(new Uint8Array(n).fill(0x32)));
      expect(v.acceptable, `${n} bytes`).toBe(false);
      expect(v.issues.map((i) => i.code)).toContain('invalid-approval');
    }
  });

  it('7.6 the wire schema refuses an offer whose challenge is not 8 bytes', () => {
    const ok = encodeServerMessage(offerWith(C));
    expect(ok.ok && parseServerMessage(ok.value).ok).toBe(true);
    for (const n of [9, 16, 256]) {
      const frame = JSON.stringify({ ...offerWith(C), challenge: toHex(new Uint8Array(n)) });
      expect(parseServerMessage(frame).ok, `${n} bytes`).toBe(false);
    }
  });
});
