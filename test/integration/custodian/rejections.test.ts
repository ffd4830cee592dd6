import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { generateTestCa } from '../../../emulator/ca/test-ca';
import { concatBytes, fromHex, toHex } from '../../../shared/codec/bytes';
import type { ClientMessage, DecisionMessage, OfferMessage } from '../../../shared/protocol/index';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import {
  type anchorOf,
  custodianCard,
  fakeServer,
  makeOffer,
  PIN,
  pkaSign,
  startEngine,
  targetDevice,
  typedPin,
} from './harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  return setupWith(undefined);
}

async function setupWith(anchors: ReturnType<typeof anchorOf>[] | undefined) {
  const server = await fakeServer();
  const card = await custodianCard();
  const target = targetDevice();
  const eng = startEngine({
    url: server.url,
    openCard: card.openCard,
    keyId: card.key.keyId,
    keyChr: card.key.chr,
    ...(anchors ? { anchors } : {}),
  });
  cleanups.push(
    () => eng.engine.stop(),
    () => eng.audit.close(),
    () => server.close(),
  );
  await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
  return { server, card, target, ...eng, key: { keyId: card.key.keyId, chr: card.key.chr } };
}

type Setup = Awaited<ReturnType<typeof setup>>;
const isDecision = (offerId: string) => (m: ClientMessage) =>
  m.type === 'decision' && m.offerId === offerId;

/** Sends an offer and expects it rejected before the card is touched. */
async function expectRejected(
  t: Setup,
  offer: OfferMessage,
  code: string | string[],
  reason?: string,
) {
  const before = t.card.snapshot();
  t.server.broadcast(offer);
  const e = await t.next((x) => x.type === 'offer-rejected' && x.offer.offerId === offer.offerId);
  expect(e.type === 'offer-rejected' && [code].flat()).toContain(
    e.type === 'offer-rejected' && e.rejection.code,
  );
  if (reason) {
    const d = (await t.server.next(isDecision(offer.offerId))) as DecisionMessage;
    expect(d.decision.kind === 'decline' && d.decision.reason).toBe(reason);
  }
  expect(t.engine.offers().some((o) => o.offerId === offer.offerId)).toBe(false);
  const r = await t.engine.approve(offer.ceremonyId, typedPin(PIN).source);
  expect(r.kind).toBe('refused');
  expect(t.card.seen).toHaveLength(0);
  expect(t.card.opens).toBe(0);
  expect(t.card.snapshot()).toEqual(before);
}

function auditLines(path: string): { kind: string; data: Record<string, unknown> }[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; data: Record<string, unknown> });
}

describe('offers rejected before the card is touched', () => {
  it('a chain for another target than the one named', async () => {
    const t = await setup();
    const other = targetDevice(303);
    const offer = makeOffer(t.target, t.key);
    const lying = { ...offer, target: { ...offer.target, chain: toHex(other.chain) } };
    await expectRejected(t, lying, 'device-mismatch', 'offer-invalid');
  });

  it('a chain from an untrusted root', async () => {
    const t = await setup();
    // Same root name as the trusted test root, different key: the DICA signature fails.
    const foreign = targetDevice(404, generateTestCa());
    await expectRejected(
      t,
      makeOffer(foreign, t.key),
      ['untrusted-anchor', 'chain-invalid'],
      'offer-invalid',
    );
    // No anchor configured for this chain at all.
    const t2 = await setupWith([]);
    await expectRejected(t2, makeOffer(t2.target, t2.key), 'untrusted-anchor', 'offer-invalid');
  });

  it('an expired offer', async () => {
    const t = await setup();
    const offer = makeOffer(t.target, t.key, { expiresAt: '2020-01-01T00:00:00Z' });
    await expectRejected(t, offer, 'expired', 'expired');
  });

  it('an offer open far too long, and one whose quorum is already met', async () => {
    const t = await setup();
    const far = makeOffer(t.target, t.key, {
      expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString(),
    });
    await expectRejected(t, far, 'expiry-too-far', 'offer-invalid');
    const met = makeOffer(t.target, t.key, {
      quorum: { n: 1, m: 3 },
      progress: { authenticated: 1, approvedBy: ['bob'] },
    });
    await expectRejected(t, met, 'quorum-met', 'offer-invalid');
  });

  it('another key than the custodian’s own', async () => {
    const t = await setup();
    const offer = makeOffer(t.target, { keyId: t.key.keyId + 1, chr: t.key.chr });
    await expectRejected(t, offer, 'wrong-key', 'offer-invalid');
  });

  it('an offer id replayed with altered content, and a challenge replayed in a new offer', async () => {
    const t = await setup();
    const offer = makeOffer(t.target, t.key);
    t.server.broadcast(offer);
    await t.next((e) => e.type === 'offer-added');
    const altered = { ...offer, purpose: 'Something else entirely' };
    t.server.broadcast(altered);
    const e = await t.next((x) => x.type === 'offer-rejected');
    expect(e.type === 'offer-rejected' && e.rejection.code).toBe('replayed');
    expect(t.card.opens).toBe(0);
    // Approve the original, then replay its challenge under a new offer id.
    expect((await t.engine.approve(offer.ceremonyId, typedPin(PIN).source)).kind).toBe('approved');
    const opens = t.card.opens;
    const replay = { ...offer, offerId: 'off-replay', ceremonyId: 'cer-replay' };
    t.server.broadcast(replay);
    const r = await t.next((x) => x.type === 'offer-rejected' && x.offer.offerId === 'off-replay');
    expect(r.type === 'offer-rejected' && r.rejection.code).toBe('replayed');
    expect(t.card.opens).toBe(opens);
  });
});

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** Hostile script steps (docs/card-reference.md §12.2), each appended after or instead of the real SIGN. */
function hostileSteps(keyId: number, chr: Uint8Array, challenge: Uint8Array): [string, string][] {
  const aid = toHex(SC_HSM_AID);
  return [
    ['VERIFY with PIN data', '00200081063132333435 36'.replace(/ /g, '')],
    ['VERIFY keep session', '00200181'],
    ['VERIFY SO-PIN', '0020008808' + '3132333435363738'],
    ['CHANGE REFERENCE DATA', '002400810c' + '313233343536363534333231'],
    ['RESET RETRY COUNTER', '002c0081083537363231383830'],
    ['INITIALIZE', '8050000000'],
    ['KEY DOMAIN', '80520000'],
    ['WRAP KEY', '80720100'],
    ['UNWRAP KEY', '80740100'],
    ['GENERATE KEY', '00460100'],
    ['UPDATE BINARY', '00d7c401' + '04' + '54020000'],
    ['DELETE FILE', '00e4020002cc01'],
    ['DECIPHER', '8062017f02aabb'],
    ['DERIVE', '80760100'],
    ['MANAGE PKA', '80540000'],
    ['MSE', '002281b6'],
    ['PSO', '002a00be'],
    ['EXTERNAL AUTHENTICATE', '00820000'],
    ['GENERAL AUTHENTICATE', '00860000'],
    ['SELECT card manager', '00a404000ba000000151000000000000'],
    ['SELECT applet', `00a404040b${aid}00`],
    ['READ private key object', '00b1cc01045402000000'],
    ['GET RESPONSE', '00c0000000'],
    ['SIGN other data', pkaSign(keyId, new TextEncoder().encode('OTHERTARGET00001'), challenge)],
    ['SIGN other key', pkaSign(keyId + 1, chr, challenge)],
    ['SIGN hash of other data', `8068${hex(keyId)}7020${'11'.repeat(32)}00`],
    ['second SIGN', pkaSign(keyId, chr, challenge)],
    [
      'secure messaging CLA',
      `8c68${hex(keyId)}73${hex(chr.length + challenge.length)}${toHex(concatBytes(chr, challenge))}`,
    ],
  ];
}

describe('hostile scripts', () => {
  it('refuses every denied command and any second or foreign signature', async () => {
    const t = await setup();
    const before = t.card.snapshot();
    const base = makeOffer(t.target, t.key);
    const challenge = fromHex(base.challenge);
    for (const [name] of hostileSteps(t.key.keyId, t.target.chr, challenge)) {
      const offer = makeOffer(t.target, t.key);
      const sign = offer.script.apdus[0]!;
      const ch = fromHex(offer.challenge);
      const steps = hostileSteps(t.key.keyId, t.target.chr, ch).find(([n]) => n === name)![1];
      // The real SIGN first, then the hostile step (also covers "second SIGN").
      const hostile = { ...offer, script: { apdus: [sign, steps] } };
      t.server.broadcast(hostile);
      const e = await t.next(
        (x) => x.type === 'offer-rejected' && x.offer.offerId === offer.offerId,
      );
      expect(e.type === 'offer-rejected' && e.rejection.code, name).toBe('script-refused');
      const d = (await t.server.next(isDecision(offer.offerId))) as DecisionMessage;
      expect(d.decision.kind === 'decline' && d.decision.reason, name).toBe('script-refused');
    }
    expect(t.card.seen).toHaveLength(0);
    expect(t.card.opens).toBe(0);
    expect(t.card.snapshot()).toEqual(before);
    const blocked = auditLines(t.auditPath).filter((l) => l.kind === 'apdu-blocked');
    expect(blocked.length).toBe(hostileSteps(1, t.target.chr, challenge).length);
    const rules = blocked.map((b) => b.data['rule']);
    for (const rule of [
      'verify-with-data',
      'verify-keep-session',
      'pin-management',
      'initialize',
      'select',
      'read-private-object',
      'get-response',
      'sign-other-data',
      'sign-other-key',
      'sign-budget-spent',
      'class-not-allowed',
    ]) {
      expect(rules).toContain(rule);
    }
    for (const b of blocked) {
      expect(b.data['header']).toMatch(/^[0-9A-F]{2}( [0-9A-F]{2}){3}$/);
      expect(typeof b.data['rule']).toBe('string');
    }
  });
});
