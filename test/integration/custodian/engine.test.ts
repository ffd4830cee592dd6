import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../../core/audit/audit-log';
import type { CardTransport } from '../../../core/card/transport';
import { asciiBytes, fromHex, toHex, concatBytes } from '../../../shared/codec/bytes';
import { parseAuthenticatedRequest } from '../../../shared/cvc/cvc';
import { curveByName } from '../../../shared/crypto/curves';
import { derToPlain, verifyPlain } from '../../../shared/crypto/ecdsa';
import type { ClientMessage, DecisionMessage } from '../../../shared/protocol/index';
import { unwrap } from '../../../shared/result';
import {
  custodianCard,
  fakeServer,
  makeOffer,
  PIN,
  startEngine,
  targetDevice,
  typedPin,
} from './harness';
import { shownRef } from './offer-ref';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const server = await fakeServer();
  const card = await custodianCard();
  const target = targetDevice();
  const eng = startEngine({
    url: server.url,
    openCard: card.openCard,
    keyId: card.key.keyId,
    keyChr: card.key.chr,
  });
  cleanups.push(
    () => eng.engine.stop(),
    () => eng.audit.close(),
    () => server.close(),
  );
  await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
  return { server, card, target, ...eng, key: { keyId: card.key.keyId, chr: card.key.chr } };
}

const isDecision = (offerId: string) => (m: ClientMessage) =>
  m.type === 'decision' && m.offerId === offerId;

/** Asserts that no frame sent to the server and no audit line contains the PIN. */
function assertNoPin(frames: string[], auditPath: string, pins: string[]) {
  const auditText = readFileSync(auditPath, 'utf8');
  for (const pin of pins) {
    const hex = toHex(asciiBytes(pin));
    for (const f of frames) {
      expect(f).not.toContain(pin);
      expect(f.toLowerCase()).not.toContain(hex);
    }
    expect(auditText).not.toContain(pin);
    expect(auditText.toLowerCase()).not.toContain(hex);
  }
}

function auditKinds(path: string): string[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { kind: string }).kind);
}

describe('custodian engine: approve and decline', () => {
  it('approves: the card signs CHR(target) ‖ challenge, SW 9000 returns, audit is complete', async () => {
    const t = await setup();
    const before = t.card.snapshot();
    const offer = makeOffer(t.target, t.key);
    t.server.broadcast(offer);
    const added = await t.next((e) => e.type === 'offer-added');
    expect(added.type === 'offer-added' && added.offer.verified.deviceId).toBe(
      offer.target.deviceId,
    );
    expect(added.type === 'offer-added' && added.offer.verified.anchor.test).toBe(true);
    expect(t.card.seen).toHaveLength(0); // nothing touches the card before approval

    const pin = typedPin(PIN);
    const outcome = await t.engine.approve(shownRef(t.engine, offer.ceremonyId), pin.source);
    expect(outcome.kind).toBe('approved');
    expect(pin.prompts).toEqual([{ retries: 3, lastTry: false }]);
    expect(pin.given.every((b) => b.every((x) => x === 0))).toBe(true); // wiped

    const decision = (await t.server.next(isDecision(offer.offerId))) as DecisionMessage;
    expect(decision.decision.kind).toBe('approve');
    if (decision.decision.kind !== 'approve') return;
    const r = decision.decision.results[0]!;
    expect('rapdu' in r).toBe(true);
    if (!('rapdu' in r)) return;
    const rapdu = fromHex(r.rapdu);
    expect(toHex(rapdu.subarray(-2))).toBe('9000');
    // The signature verifies with the custodian key over exactly CHR(target) ‖ challenge.
    const request = unwrap(parseAuthenticatedRequest(t.card.key.request));
    const curve = curveByName('brainpoolP256r1');
    const plain = unwrap(derToPlain(rapdu.subarray(0, -2), 32));
    const input = concatBytes(t.target.chr, fromHex(offer.challenge));
    expect(verifyPlain(curve, request.inner.body.publicKey.point!, input, plain, 'sha256')).toBe(
      true,
    );

    const kinds = auditKinds(t.auditPath);
    const approval = kinds.indexOf('approval');
    expect(approval).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('pin-verified')).toBeGreaterThan(approval);
    expect(kinds.indexOf('apdu-forwarded')).toBeGreaterThan(approval);
    expect(verifyAuditFile(t.auditPath).ok).toBe(true);
    assertNoPin(t.server.frames, t.auditPath, [PIN]);
    // Card reset at the end: no PIN state left, persistent state unchanged.
    expect(t.card.snapshot()).toEqual(before);
    const probe = await t.card.openCard();
    const status = await probe.transmit(Uint8Array.of(0x00, 0x20, 0x00, 0x81));
    expect(toHex(status.subarray(-2))).not.toBe('9000');
    await probe.close('reset');
  });

  it('issue 12: only SELECT, the offered key, PIN status, VERIFY and SIGN reach the card; the decision leaves before the reset', async () => {
    const server = await fakeServer();
    const card = await custodianCard(131);
    const target = targetDevice(231);
    const key = { keyId: card.key.keyId, chr: card.key.chr };
    // One ordered log of what reaches the card and what leaves for the server.
    const log: string[] = [];
    const openCard = async (): Promise<CardTransport> => {
      const inner = await card.openCard();
      return {
        ...inner,
        get atr() {
          return inner.atr;
        },
        transmit: (a) => (log.push(`apdu ${toHex(a.subarray(1, 2))}`), inner.transmit(a)),
        transaction: (fn) => inner.transaction(fn),
        reset: () => (log.push('reset'), inner.reset()),
        close: (d) => (log.push(`close ${d ?? 'reset'}`), inner.close(d)),
      };
    };
    const eng = startEngine({
      url: server.url,
      openCard,
      keyId: key.keyId,
      keyChr: key.chr,
      connector: (inner) => (url, events) => {
        const c = inner(url, events);
        return {
          ...c,
          send: (text) => {
            log.push(`send ${(JSON.parse(text) as { type: string }).type}`);
            c.send(text);
          },
        };
      },
    });
    cleanups.push(
      () => eng.engine.stop(),
      () => eng.audit.close(),
      () => server.close(),
    );
    await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
    for (const round of [1, 2]) {
      log.length = 0;
      const offer = makeOffer(target, key);
      server.broadcast(offer);
      await eng.next((e) => e.type === 'offer-added' && e.offer.offerId === offer.offerId);
      const outcome = await eng.engine.approve(
        shownRef(eng.engine, offer.ceremonyId),
        typedPin(PIN).source,
      );
      expect(outcome.kind, `round ${round}`).toBe('approved');
      // SELECT, READ BINARY CE<id>, VERIFY (status), VERIFY (PIN), SIGN: nothing else, and
      // every SIGN went through the firewall (audited as forwarded).
      expect(log.filter((l) => l.startsWith('apdu'))).toEqual([
        'apdu a4',
        'apdu b1',
        'apdu 20',
        'apdu 20',
        'apdu 68',
      ]);
      expect(log.filter((l) => !l.startsWith('apdu'))).toEqual(['send decision', 'close reset']);
      const decision = (await server.next(isDecision(offer.offerId))) as DecisionMessage;
      expect(decision.decision.kind).toBe('approve');
    }
    expect(auditKinds(eng.auditPath).filter((k) => k === 'apdu-forwarded')).toHaveLength(2);
    assertNoPin(server.frames, eng.auditPath, [PIN]);
  });

  it('declines without touching the card', async () => {
    const t = await setup();
    const offer = makeOffer(t.target, t.key);
    t.server.broadcast(offer);
    await t.next((e) => e.type === 'offer-added');
    expect(t.engine.decline(offer.ceremonyId)).toBe(true);
    const d = (await t.server.next(isDecision(offer.offerId))) as DecisionMessage;
    expect(d.decision).toEqual({ kind: 'decline', reason: 'user-declined' });
    expect(t.card.opens).toBe(0);
    expect(auditKinds(t.auditPath)).toContain('decline');
    // A declined offer cannot be approved afterwards.
    const again = await t.engine.approve(
      shownRef(t.engine, offer.ceremonyId),
      typedPin(PIN).source,
    );
    expect(again.kind).toBe('refused');
    expect(t.card.opens).toBe(0);
  });
});

describe('custodian engine: PIN handling', () => {
  it('shows retries, never retries on its own, needs confirmation for the last try', async () => {
    const t = await setup();
    const offer = makeOffer(t.target, t.key);
    t.server.broadcast(offer);
    await t.next((e) => e.type === 'offer-added');

    const wrong = typedPin('123456');
    expect(await t.engine.approve(shownRef(t.engine, offer.ceremonyId), wrong.source)).toEqual({
      kind: 'pin-wrong',
      retries: 2,
    });
    expect(wrong.prompts).toHaveLength(1);
    expect(await t.engine.approve(shownRef(t.engine, offer.ceremonyId), wrong.source)).toEqual({
      kind: 'pin-wrong',
      retries: 1,
    });
    expect(wrong.prompts.at(-1)).toEqual({ retries: 2, lastTry: false });
    // One try left: refused unless confirmed, and the PIN is not even asked for.
    const last = await t.engine.approve(shownRef(t.engine, offer.ceremonyId), wrong.source);
    expect(last.kind).toBe('needs-last-try-confirmation');
    expect(wrong.prompts).toHaveLength(2);
    expect(t.card.card.state.userPin?.retries).toBe(1);
    // No decision was sent for any of these.
    expect(t.server.messages.filter((m) => m.type === 'decision')).toHaveLength(0);

    const right = typedPin(PIN);
    const ok = await t.engine.approve(shownRef(t.engine, offer.ceremonyId), right.source, {
      confirmLastTry: true,
    });
    expect(ok.kind).toBe('approved');
    expect(right.prompts).toEqual([{ retries: 1, lastTry: true }]);
    expect(auditKinds(t.auditPath).filter((k) => k === 'pin-failed')).toHaveLength(2);
    assertNoPin(t.server.frames, t.auditPath, [PIN, '123456']);
  });

  it('refuses a PIN of the wrong length without spending a try', async () => {
    const t = await setup();
    const offer = makeOffer(t.target, t.key);
    t.server.broadcast(offer);
    await t.next((e) => e.type === 'offer-added');
    const r = await t.engine.approve(shownRef(t.engine, offer.ceremonyId), typedPin('12').source);
    expect(r.kind).toBe('pin-cancelled');
    expect(t.card.card.state.userPin?.retries).toBe(3);
  });
});
