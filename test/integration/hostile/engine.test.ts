/**
 * A hostile management server (a real WebSocket server speaking the protocol, maliciously)
 * against the REAL custodian engine and a real emulated card. Every attack of the issue list —
 * each denied command of docs/card-reference.md §12.2 (docs/protocol.md §9.2), a SIGN over other data or
 * with another key, a second SIGN in one approval, a chain for another target, replayed and
 * expired offers — must be (1) refused with the documented decision, (2) audited, with the
 * audit chain still verifying, (3) leave the card's persistent state (PIN retry counter, keys,
 * files) byte-identical and the card unopened, and (4) no frame may carry the PIN.
 * Oversize and malformed frames: test/integration/hostile/frames.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateTestCa } from '../../../emulator/ca/test-ca';
import { toHex } from '../../../shared/codec/bytes';
import type { DecisionMessage } from '../../../shared/protocol/index';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import { isoSeconds } from '../helpers/hostile-server';
import {
  decisionsFor,
  expectOfferRefused,
  headerOf,
  hostileSession,
  pinSource,
  type HostileSession,
} from './session';
import { expectCleanTrail, offerFor, signApdu, targetIdentity } from './world';

let s: HostileSession;
beforeAll(async () => {
  s = await hostileSession();
}, 60_000);
afterAll(async () => {
  s?.engine.stop();
  s?.audit.close();
  await s?.server.close();
});
afterEach(async () => {
  // (2) the trail verifies with `custodian audit verify`; (4) no PIN in any received frame.
  await expectCleanTrail(s.auditPath, s.server);
});

const hex = (n: number) => n.toString(16).padStart(2, '0');

type Attack = {
  readonly name: string;
  /** The script: the hostile step(s) and where the real SIGN goes. */
  readonly script: (sign: string, keyId: number, chr: Uint8Array, ch: Uint8Array) => string[];
  /** Index of the step the firewall must block, and the rule (docs/protocol.md §9.2). */
  readonly index: number;
  readonly rule: string;
};

/** Hostile step first, then the real SIGN (so only the hostile step can be the refusal). */
const before = (name: string, apdu: string, rule: string): Attack => ({
  name,
  script: (sign) => [apdu, sign],
  index: 0,
  rule,
});

const OTHER_CHR = new TextEncoder().encode('DENK0100001T0666');
const guessPin = toHex(new TextEncoder().encode('00000000'));

/** Every deny rule of docs/card-reference.md §12.2 / docs/protocol.md §9.2, with the expected rule id. */
const ATTACKS: readonly Attack[] = [
  before('malformed (Lc does not match)', '0020008105' + '3132', 'malformed'),
  before('chaining CLA', '1068037300', 'class-not-allowed'),
  before('logical channel CLA', '0120008100', 'class-not-allowed'),
  before('PIN status with Le', '0020008100', 'bad-form'),
  before('GET CHALLENGE with data', '0084000001aa', 'bad-form'),
  before('SELECT the applet again', `00a404000b${toHex(SC_HSM_AID)}00`, 'select'),
  before('SELECT the card manager', '00a4040008a00000015100000000', 'select'),
  before('VERIFY PIN guess', `0020008108${guessPin}`, 'verify-with-data'),
  before('VERIFY keep session', '00200181', 'verify-keep-session'),
  before('VERIFY SO-PIN', '00200088', 'verify-other'),
  before('CHANGE REFERENCE DATA', `002400811000000000000000000000000000000000`, 'pin-management'),
  before('RESET RETRY COUNTER', '002c0081083537363231383830', 'pin-management'),
  before('session PIN', '805a0000', 'pin-management'),
  before('INITIALIZE DEVICE', '8050000000', 'initialize'),
  before('DKEK share / key domain', '80520000', 'key-domain'),
  before('WRAP KEY', '80720100', 'key-export'),
  before('UNWRAP KEY', '80740100', 'key-export'),
  before('GENERATE ASYMMETRIC KEY PAIR', '00460200', 'key-store-write'),
  before('GENERATE SYMMETRIC KEY', '80480100', 'key-store-write'),
  before('UPDATE BINARY', '00d7c4010454020000', 'key-store-write'),
  before('DELETE FILE', '00e4020002cc01', 'key-store-write'),
  before('DECIPHER / ECDH', '8062017f02aabb', 'crypto-oracle'),
  before('DERIVE', '80760100', 'crypto-oracle'),
  before('CIPHER SYMMETRIC', '80780100', 'crypto-oracle'),
  before('MANAGE PKA of the custodian card', '80540000', 'manage-pka'),
  before('MSE SET', '002281b6', 'trust-store'),
  before('PSO VERIFY CERTIFICATE', '002a00be', 'trust-store'),
  before('EXTERNAL AUTHENTICATE', '00820000', 'trust-store'),
  before('GENERAL AUTHENTICATE', '00860000', 'secure-messaging'),
  before('READ private key object', '00b1cc01045402000000', 'read-private-object'),
  before('READ BINARY', '00b0000000', 'read-binary-iso'),
  before('GET RESPONSE', '00c0000000', 'get-response'),
  before('unknown instruction (Pico 64)', '8064000000', 'unknown-instruction'),
  {
    name: 'secure messaging CLA on the SIGN',
    script: (sign) => ['8c' + sign.slice(2)],
    index: 0,
    rule: 'class-not-allowed',
  },
  {
    name: 'SIGN over another target’s CHR (could unlock it, docs/card-reference.md §12.3)',
    script: (_s, keyId, _c, ch) => [signApdu(keyId, OTHER_CHR, ch)],
    index: 0,
    rule: 'sign-other-data',
  },
  {
    name: 'SIGN of a hash of other data',
    script: (_s, keyId) => [`8068${hex(keyId)}7020${'5a'.repeat(32)}00`],
    index: 0,
    rule: 'sign-other-data',
  },
  {
    name: 'SIGN with another key',
    script: (_s, keyId, chr, ch) => [signApdu(keyId === 255 ? 1 : keyId + 1, chr, ch)],
    index: 0,
    rule: 'sign-other-key',
  },
  {
    name: 'SIGN with the device key (attestation oracle)',
    script: (sign) => [`806800${sign.slice(6)}`],
    index: 0,
    rule: 'sign-other-key',
  },
  {
    name: 'SIGN with another algorithm',
    script: (sign) => [`${sign.slice(0, 6)}75${sign.slice(8)}`],
    index: 0,
    rule: 'sign-other-algorithm',
  },
  {
    name: 'a second SIGN in one approval',
    script: (sign) => [sign, sign],
    index: 1,
    rule: 'sign-budget-spent',
  },
];

describe('hostile server: denied commands never reach the card', () => {
  it.each(ATTACKS)('$name → $rule', async (attack) => {
    const offer = offerFor(s.target, s.key, (ch) => ({
      script: {
        apdus: attack.script(offerForSign(s, ch), s.key.keyId, s.target.chr, ch),
      },
    }));
    const blockedApdu = offer.script.apdus[attack.index]!;
    const { audit, decision } = await expectOfferRefused(
      s,
      offer,
      'script-refused',
      'script-refused',
    );
    // The decline names the refused step; the audit has the blocked header and rule.
    expect(decision?.decision.kind === 'decline' && decision.decision.detail).toContain(
      `APDU ${attack.index + 1} (${headerOf(blockedApdu)}) refused`,
    );
    const blocked = audit.filter((l) => l.kind === 'apdu-blocked');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.data).toMatchObject({
      ceremonyId: offer.ceremonyId,
      offerId: offer.offerId,
      index: attack.index,
      rule: attack.rule,
      header: headerOf(blockedApdu),
      phase: 'pre-inspection',
    });
  });
});

/** The genuine SIGN for the session's target and key over `challenge`. */
function offerForSign(t: HostileSession, challenge: Uint8Array): string {
  return signApdu(t.key.keyId, t.target.chr, challenge);
}

describe('hostile server: offers that lie', () => {
  it('an offer naming another key than the custodian’s own', async () => {
    const other = { keyId: s.key.keyId === 255 ? 1 : s.key.keyId + 1, chr: s.key.chr };
    await expectOfferRefused(s, offerFor(s.target, other), 'wrong-key', 'offer-invalid');
    const renamed = { keyId: s.key.keyId, chr: 'UTCUST0000099' };
    await expectOfferRefused(s, offerFor(s.target, renamed), 'wrong-key', 'offer-invalid');
  });

  it('a chain for another target than the device id named', async () => {
    const other = targetIdentity(7999);
    const offer = offerFor(s.target, s.key, () => ({
      target: {
        label: 'Issuing CA HSM',
        deviceId: s.legit.target.deviceId,
        chain: toHex(other.chain),
      },
    }));
    await expectOfferRefused(s, offer, 'device-mismatch', 'offer-invalid');
  });

  it('a genuine chain of another target, with the SIGN still naming the first target', async () => {
    const other = targetIdentity(7998);
    const offer = offerFor(other, s.key, (ch) => ({
      script: { apdus: [signApdu(s.key.keyId, s.target.chr, ch)] },
    }));
    const { audit } = await expectOfferRefused(s, offer, 'script-refused', 'script-refused');
    expect(audit.find((l) => l.kind === 'apdu-blocked')?.data['rule']).toBe('sign-other-data');
  });

  it('a chain from a PKI the custodian does not trust', async () => {
    // Same root name as the trusted test root, another key: an unknown root or a broken chain.
    const foreign = targetIdentity(7997, generateTestCa());
    await expectOfferRefused(
      s,
      offerFor(foreign, s.key),
      ['untrusted-anchor', 'chain-invalid'],
      'offer-invalid',
    );
  });
});

describe('hostile server: replayed and expired offers', () => {
  it('the approved offer sent again: the stored decision is repeated, nothing signed again', async () => {
    const from = s.server.messages.length;
    const audit = s.auditCount();
    const added = s.events.filter((e) => e.type === 'offer-added').length;
    s.server.send(s.legit);
    const again = (await s.server.waitFor(
      (m) => m.type === 'decision' && m.offerId === s.legit.offerId,
      'repeated decision',
      5000,
      from,
    )) as DecisionMessage;
    expect(again).toEqual(s.legitDecision);
    expect(s.events.filter((e) => e.type === 'offer-added').length).toBe(added);
    const pin = pinSource();
    expect((await s.engine.approve(s.legit.ceremonyId, pin.source)).kind).toBe('refused');
    expect(pin.asked).toBe(0);
    expect(s.auditSince(audit).some((l) => l.kind === 'approval')).toBe(false);
    s.expectCardUntouched();
  });

  it('the approved offer id with altered content: rejected, not answered', async () => {
    const ch = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const altered = {
      ...s.legit,
      purpose: 'Emergency key export',
      challenge: toHex(ch),
      script: { apdus: [signApdu(s.key.keyId, s.target.chr, ch)] },
    };
    const before = decisionsFor(s.server, s.legit.offerId).length;
    await expectOfferRefused(s, altered, 'replayed', undefined);
    expect(decisionsFor(s.server, s.legit.offerId).length).toBe(before);
  });

  it('the approved challenge under a new offer id: declined as a replay', async () => {
    const replay = { ...s.legit, ceremonyId: 'hcer-replay', offerId: 'hoff-replay' };
    await expectOfferRefused(s, replay, 'replayed', 'offer-invalid');
  });

  it('an offer that expired before it arrived', async () => {
    const offer = offerFor(s.target, s.key, () => ({
      expiresAt: isoSeconds(new Date(Date.now() - 10 * 60_000)),
    }));
    await expectOfferRefused(s, offer, 'expired', 'expired');
  });

  it('an offer valid for longer than a ceremony may be open', async () => {
    const offer = offerFor(s.target, s.key, () => ({
      expiresAt: isoSeconds(new Date(Date.now() + 24 * 3600_000)),
    }));
    await expectOfferRefused(s, offer, 'expiry-too-far', 'offer-invalid');
  });

  it('an offer that expires while pending cannot be approved afterwards', async () => {
    const offer = offerFor(s.target, s.key, () => ({
      expiresAt: isoSeconds(new Date(Date.now() + 2500)),
    }));
    const from = s.auditCount();
    s.server.send(offer);
    await s.next((e) => e.type === 'offer-added' && e.offer.offerId === offer.offerId, 'offer');
    await s.next(
      (e) => e.type === 'offer-removed' && e.offerId === offer.offerId && e.reason === 'expired',
      'expiry',
      8000,
    );
    const pin = pinSource();
    expect((await s.engine.approve(offer.ceremonyId, pin.source)).kind).toBe('refused');
    expect(pin.asked).toBe(0);
    expect(decisionsFor(s.server, offer.offerId)).toEqual([]);
    expect(s.auditSince(from).some((l) => l.kind === 'approval')).toBe(false);
    s.expectCardUntouched();
  });

  it('a server lying about its clock cannot revive an expired offer', async () => {
    // welcome claims it is a day earlier; the engine bounds the correction (±5 min), so an
    // offer that expired an hour ago is still expired (unbounded, it would look 23 h ahead).
    const liar = await hostileSession({ serverTime: () => new Date(Date.now() - 24 * 3600_000) });
    try {
      const offer = offerFor(liar.target, liar.key, () => ({
        expiresAt: isoSeconds(new Date(Date.now() - 3600_000)),
      }));
      await expectOfferRefused(liar, offer, 'expired', 'expired');
      await expectCleanTrail(liar.auditPath, liar.server);
    } finally {
      liar.engine.stop();
      liar.audit.close();
      await liar.server.close();
    }
  });
});
