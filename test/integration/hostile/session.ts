/**
 * One custodian session against the hostile server: the real engine, a real emulated card, and
 * one LEGITIMATE approval first (so the PIN was really typed and used in this session, which
 * makes "no PIN in any frame" meaningful). The card state after that approval is the baseline
 * every hostile case must leave untouched.
 */
import { expect } from 'vitest';
import type { ClientMessage, DecisionMessage, OfferMessage } from '../../../shared/protocol/index';
import { asciiBytes } from '../../../shared/codec/bytes';
import { startHostileServer, type HostileServer } from '../helpers/hostile-server';
import {
  auditLines,
  newCustodianCard,
  observedCard,
  offerFor,
  PIN,
  startEngine,
  targetIdentity,
  type AuditLine,
  type TargetIdentity,
} from './world';

/** A typed PIN source that counts how often the engine asked. */
export function pinSource() {
  let asked = 0;
  return {
    get asked() {
      return asked;
    },
    source: {
      kind: 'typed' as const,
      read: async () => {
        asked += 1;
        return asciiBytes(PIN);
      },
    },
  };
}

let serial = 7100;

/** Starts a session and runs the legitimate approval. */
export async function hostileSession(opts: { serverTime?: () => Date } = {}) {
  const server = await startHostileServer(opts);
  const cust = await newCustodianCard(serial++);
  const card = observedCard(cust.card);
  const key = { keyId: cust.keyId, chr: cust.chr };
  const target: TargetIdentity = targetIdentity(serial++);
  const eng = startEngine({
    url: server.url,
    openCard: card.openCard,
    key,
    credential: server.credential,
    custodianId: server.custodianId,
  });
  await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated', 'welcome');

  const legit = offerFor(target, key);
  server.send(legit);
  await eng.next((e) => e.type === 'offer-added' && e.offer.offerId === legit.offerId, 'offer');
  const pin = pinSource();
  const r = await eng.engine.approve(legit.ceremonyId, pin.source);
  expect(r.kind).toBe('approved');
  expect(pin.asked).toBe(1);
  const decision = (await server.waitFor(
    (m) => m.type === 'decision' && m.offerId === legit.offerId,
    'legit decision',
  )) as DecisionMessage;
  expect(decision.decision.kind).toBe('approve');
  const rapdu = decision.decision.kind === 'approve' ? decision.decision.results[0] : undefined;
  // A DER ECDSA signature followed by 9000 (docs/card-reference.md §6.6 step 4).
  expect(rapdu && 'rapdu' in rapdu ? rapdu.rapdu : '').toMatch(/^30[0-9a-f]+9000$/);

  const baseline = {
    state: card.state(),
    apdus: card.apdus.length,
    opens: card.opens,
  };
  const retries = (JSON.parse(baseline.state) as { userPin: { retries: number } }).userPin.retries;
  expect(retries).toBe(3);

  return {
    server,
    cust,
    card,
    key,
    target,
    legit,
    legitDecision: decision,
    baseline,
    ...eng,
    /** The card was not opened, got no APDU, and its persistent state is byte-identical. */
    expectCardUntouched() {
      expect(card.opens).toBe(baseline.opens);
      expect(card.apdus.slice(baseline.apdus)).toEqual([]);
      const now = card.state();
      const parsed = JSON.parse(now) as { userPin: { retries: number }; keys: object };
      expect(parsed.userPin.retries).toBe(3);
      expect(Object.keys(parsed.keys)).toEqual(
        Object.keys((JSON.parse(baseline.state) as { keys: object }).keys),
      );
      expect(now).toBe(baseline.state);
    },
    /** Audit entries appended since `from` entries. */
    auditSince(from: number): AuditLine[] {
      return auditLines(eng.auditPath).slice(from);
    },
    auditCount: () => auditLines(eng.auditPath).length,
  };
}

export type HostileSession = Awaited<ReturnType<typeof hostileSession>>;

/** The decisions the server received for `offerId`. */
export function decisionsFor(server: HostileServer, offerId: string): ClientMessage[] {
  return server.messages.filter((m) => m.type === 'decision' && m.offerId === offerId);
}

/** Header as the firewall and the audit log print it: `80 68 03 73`. */
export function headerOf(apduHex: string): string {
  return (apduHex.slice(0, 8).match(/../g) ?? []).join(' ').toUpperCase();
}

/**
 * Sends a hostile offer and checks the full outcome: rejected by the engine (event and audit
 * `offer-rejected` with `code`), answered with a decline of `reason` (or not answered at all
 * when `reason` is undefined), an approval attempt afterwards is refused, and the card was
 * not touched.
 */
export async function expectOfferRefused(
  s: HostileSession,
  offer: OfferMessage,
  code: string | readonly string[],
  reason: string | undefined,
): Promise<{ audit: AuditLine[]; decision: DecisionMessage | undefined }> {
  const from = s.auditCount();
  const sent = s.server.messages.length;
  s.server.send(offer);
  const e = await s.next(
    (x) => x.type === 'offer-rejected' && x.offer.offerId === offer.offerId,
    `rejection of ${offer.offerId}`,
  );
  const codes = typeof code === 'string' ? [code] : code;
  const got = e.type === 'offer-rejected' ? e.rejection.code : '';
  expect(codes).toContain(got);
  let decision: DecisionMessage | undefined;
  if (reason !== undefined) {
    decision = (await s.server.waitFor(
      (m) => m.type === 'decision' && m.offerId === offer.offerId,
      `decline of ${offer.offerId}`,
      10_000,
      sent,
    )) as DecisionMessage;
    expect(decision.ceremonyId).toBe(offer.ceremonyId);
    expect(decision.decision).toMatchObject({ kind: 'decline', reason });
  } else {
    await new Promise((r) => setTimeout(r, 150));
    const later = s.server.messages.slice(sent);
    expect(later.filter((m) => m.type === 'decision' && m.offerId === offer.offerId)).toEqual([]);
  }
  // The custodian (or a UI bug) trying to approve anyway gets nowhere near the card.
  const pin = pinSource();
  expect((await s.engine.approve(offer.ceremonyId, pin.source)).kind).toBe('refused');
  expect(pin.asked).toBe(0);
  // Nothing of the hostile offer can be acted on (an earlier decided offer with the same id
  // may still await the server's result, with its own content).
  const views = s.engine.offers().filter((o) => o.offerId === offer.offerId);
  expect(views.filter((o) => o.phase === 'pending')).toEqual([]);
  for (const v of views) expect(v.verified.offer).not.toEqual(offer);
  const audit = s.auditSince(from);
  const rejected = audit.filter((l) => l.kind === 'offer-rejected');
  expect(rejected).toHaveLength(1);
  expect(rejected[0]!.data).toMatchObject({
    ceremonyId: offer.ceremonyId,
    offerId: offer.offerId,
    code: got,
  });
  expect(audit.some((l) => l.kind === 'approval' || l.kind === 'apdu-forwarded')).toBe(false);
  s.expectCardUntouched();
  return { audit, decision };
}
