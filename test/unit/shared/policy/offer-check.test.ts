import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { asciiBytes, concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { command, encodeCommandApdu } from '../../../../shared/codec/apdu';
import { anchorFromCvc, type TrustAnchor } from '../../../../shared/cvc/chain';
import { createApduFirewall } from '../../../../shared/policy/firewall';
import {
  checkOffer,
  type OfferCheckContext,
  type OfferIssueCode,
} from '../../../../shared/policy/offer-check';
import type { OfferMessage } from '../../../../shared/protocol/server-messages';
import { parseServerMessage, encodeServerMessage } from '../../../../shared/protocol/codec';
import { buildSyntheticChain, type SyntheticChain } from '../../../fixtures/cvc/synthetic';

const NOW = new Date('2026-11-27T01:00:00Z');
const CHALLENGE = '5a17c3e09b2d4f86';
const KEY = { chr: 'UTCC120935500001', keyId: 3 };

let synthetic: SyntheticChain;
let other: SyntheticChain;
let anchors: TrustAnchor[];

const signApdu = (
  chr: string,
  challenge = CHALLENGE,
  kid = KEY.keyId,
  p2 = 0x73,
  data?: Uint8Array,
) => {
  const input = data ?? concatBytes(asciiBytes(chr), fromHex(challenge));
  const r = encodeCommandApdu(command(0x80, 0x68, kid, p2, input, 256));
  if (!r.ok) throw new Error(r.error.message);
  return toHex(r.value);
};

function offer(over: Partial<OfferMessage> = {}): OfferMessage {
  const base: OfferMessage = {
    v: 1,
    type: 'offer',
    ceremonyId: 'cer-1',
    offerId: 'off-1',
    target: {
      label: 'Issuing CA',
      deviceId: synthetic.chrs.device,
      chain: toHex(synthetic.ef2f02),
    },
    purpose: 'Quarterly CRL',
    requester: 'Alice',
    quorum: { n: 2, m: 3 },
    progress: { authenticated: 1, approvedBy: ['Bob'] },
    expiresAt: '2026-11-27T01:10:00Z',
    challenge: CHALLENGE,
    key: KEY,
    script: { apdus: ['00200081', signApdu(synthetic.chrs.device)] },
  };
  // The fixture must itself be a valid wire message.
  const msg = { ...base, ...over };
  const enc = encodeServerMessage(msg);
  if (!enc.ok) throw new Error(JSON.stringify(enc.error));
  const back = parseServerMessage(enc.value);
  if (!back.ok || back.value.type !== 'offer') throw new Error('fixture offer does not parse');
  return back.value;
}

const ctx = (over: Partial<OfferCheckContext> = {}): OfferCheckContext => ({
  anchors,
  now: NOW,
  ownKey: KEY,
  decidedOfferIds: new Set<string>(),
  ...over,
});

const codes = (o: OfferMessage, c = ctx()): OfferIssueCode[] =>
  checkOffer(o, c).issues.map((i) => i.code);

beforeAll(() => {
  synthetic = buildSyntheticChain();
  other = buildSyntheticChain({ deviceChr: 'UTCC999999900000' });
  const a = anchorFromCvc(synthetic.root, 'test root');
  if (!a.ok) throw new Error(a.error.message);
  anchors = [a.value];
});

describe('checkOffer', () => {
  it('accepts a well-formed offer for a genuine target and returns the approval', () => {
    const v = checkOffer(offer(), ctx());
    expect(v.issues).toEqual([]);
    expect(v.acceptable).toBe(true);
    if (!v.acceptable) return;
    expect(v.target.deviceId).toBe(synthetic.chrs.device);
    expect(v.target.anchor).toBe('test root');
    expect(new TextDecoder().decode(v.approval.targetDeviceChr)).toBe(synthetic.chrs.device);
    expect(toHex(v.approval.challenge)).toBe(CHALLENGE);
    expect(v.approval.keyId).toBe(3);
    expect(v.script.map((s) => s.decision.allow)).toEqual([true, true]);
    // The approval drives a fresh runtime firewall that allows exactly that signature once.
    const fw = createApduFirewall(v.approval);
    expect(fw.inspect(fromHex(signApdu(synthetic.chrs.device))).allow).toBe(true);
    expect(fw.inspect(fromHex(signApdu(synthetic.chrs.device))).allow).toBe(false);
  });

  it('accepts the hashed SIGN form', () => {
    const digest = sha256(concatBytes(asciiBytes(synthetic.chrs.device), fromHex(CHALLENGE)));
    const o = offer({ script: { apdus: [signApdu('', CHALLENGE, 3, 0x70, digest)] } });
    expect(checkOffer(o, ctx()).acceptable).toBe(true);
  });

  it('refuses a chain that does not end in a trusted root', () => {
    const v = checkOffer(offer(), ctx({ anchors: [] }));
    expect(v.acceptable).toBe(false);
    expect(v.issues.map((i) => i.code)).toContain('chain-not-genuine');
    expect(v.target).toBeUndefined();
  });

  it('refuses a tampered chain', () => {
    const bad = Uint8Array.from(synthetic.ef2f02);
    bad[bad.length - 5]! ^= 0x01;
    expect(
      codes(offer({ target: { label: 'x', deviceId: synthetic.chrs.device, chain: toHex(bad) } })),
    ).toContain('chain-not-genuine');
  });

  it('refuses a chain from another device than the one named (and its script)', () => {
    const o = offer({
      target: { label: 'x', deviceId: synthetic.chrs.device, chain: toHex(other.ef2f02) },
    });
    const got = codes(o, ctx({ anchors: [...anchors, unwrapAnchor(other.root)] }));
    expect(got).toContain('device-id-mismatch');
    // The script signs the named device's CHR, not the chain's: the firewall refuses it.
    expect(got).toContain('script-refused');
  });

  it('checks expiry with clock skew tolerance and refuses far-future expiry', () => {
    expect(codes(offer({ expiresAt: '2026-11-27T00:59:00Z' }))).toEqual([]);
    expect(codes(offer({ expiresAt: '2026-11-27T00:58:00Z' }))).toEqual(['expired']);
    expect(codes(offer({ expiresAt: '2026-11-27T00:59:00Z' }), ctx({ clockSkewMs: 0 }))).toEqual([
      'expired',
    ]);
    expect(codes(offer({ expiresAt: '2026-11-27T02:02:01Z' }))).toEqual(['expiry-too-far']);
    expect(codes(offer({ expiresAt: '2026-11-27T02:02:00Z' }))).toEqual([]);
  });

  it('refuses an offer for another key', () => {
    expect(codes(offer({ key: { chr: 'UTCC120935500002', keyId: 3 } }))).toEqual(['wrong-key']);
    const o = offer({
      key: { chr: KEY.chr, keyId: 4 },
      script: { apdus: [signApdu(synthetic.chrs.device, CHALLENGE, 4)] },
    });
    expect(codes(o)).toEqual(['wrong-key', 'script-refused', 'script-without-signature']);
  });

  it('refuses a replayed offer id', () => {
    expect(codes(offer(), ctx({ decidedOfferIds: new Set(['off-1']) }))).toEqual(['replayed']);
  });

  it('refuses when the quorum is already met', () => {
    expect(codes(offer({ progress: { authenticated: 2, approvedBy: ['a', 'b'] } }))).toEqual([
      'quorum-already-met',
    ]);
  });

  it('flags scripts the firewall would refuse, naming each APDU', () => {
    const o = offer({
      script: {
        apdus: [
          '00a4040c0be82b0601040181c31f0201',
          '0020008106313233343536',
          signApdu(synthetic.chrs.device),
          signApdu(synthetic.chrs.device),
        ],
      },
    });
    const v = checkOffer(o, ctx());
    expect(v.acceptable).toBe(false);
    expect(v.issues.map((i) => [i.code, i.apduIndex])).toEqual([
      ['script-refused', 0],
      ['script-refused', 1],
      ['script-refused', 3],
    ]);
    expect(v.script.map((s) => s.decision.rule)).toEqual([
      'select',
      'verify-with-data',
      'sign-pka-input',
      'sign-budget-spent',
    ]);
  });

  it('flags a signature over another target or challenge', () => {
    expect(codes(offer({ script: { apdus: [signApdu(other.chrs.device)] } }))).toEqual([
      'script-refused',
      'script-without-signature',
    ]);
    expect(
      codes(offer({ script: { apdus: [signApdu(synthetic.chrs.device, '0000000000000000')] } })),
    ).toEqual(['script-refused', 'script-without-signature']);
  });

  it('refuses a script without the signature', () => {
    expect(codes(offer({ script: { apdus: ['00200081'] } }))).toEqual(['script-without-signature']);
  });

  it('reports every problem at once', () => {
    const o = offer({
      expiresAt: '2026-11-26T00:00:00Z',
      key: { chr: 'OTHER', keyId: 3 },
      progress: { authenticated: 3, approvedBy: [] },
    });
    expect(codes(o, ctx({ anchors: [], decidedOfferIds: new Set(['off-1']) }))).toEqual([
      'chain-not-genuine',
      'expired',
      'wrong-key',
      'replayed',
      'quorum-already-met',
    ]);
  });
});

function unwrapAnchor(root: Uint8Array): TrustAnchor {
  const a = anchorFromCvc(root, 'other root');
  if (!a.ok) throw new Error(a.error.message);
  return a.value;
}
