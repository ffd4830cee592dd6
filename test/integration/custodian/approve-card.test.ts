/**
 * Issue 10 item 2 (no side channels): each approval names its own card (`openCard` per call),
 * and a card failure comes back in that approval's outcome as the typed transport error — so
 * two approvals running at once on different readers never use each other's card or report
 * each other's failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CardTransportError, type CardTransport } from '../../../core/card/transport';
import type { ApproveResult } from '../../../core/custodian/engine';
import { refOf, type EngineEvent, type OfferView } from '../../../core/custodian/engine-types';
import type { OfferMessage } from '../../../shared/protocol/index';
import {
  custodianCard,
  fakeServer,
  makeOffer,
  PIN,
  startEngine,
  targetDevice,
  typedPin,
} from './harness';
import { brokenDriver, busyReader, removedAtVerify } from './card-faults';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const server = await fakeServer();
  const card = await custodianCard();
  let defaultOpens = 0;
  const eng = startEngine({
    url: server.url,
    // The engine's default card must not be used when an approval names its own.
    openCard: () => {
      defaultOpens += 1;
      return Promise.reject(new Error('the default card was used'));
    },
    keyId: card.key.keyId,
    keyChr: card.key.chr,
  });
  cleanups.push(
    () => eng.engine.stop(),
    () => eng.audit.close(),
    () => server.close(),
  );
  await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
  const key = { keyId: card.key.keyId, chr: card.key.chr };
  const show = async (offer: OfferMessage): Promise<OfferView> => {
    server.broadcast(offer);
    const e = await eng.next(
      (x: EngineEvent) => x.type === 'offer-added' && x.offer.offerId === offer.offerId,
    );
    if (e.type !== 'offer-added') throw new Error('unreachable');
    return e.offer;
  };
  return { server, card, key, show, defaultOpens: () => defaultOpens, ...eng };
}

const causeOf = (r: ApproveResult) => (r.kind === 'card-error' ? r.cause : undefined);

describe('10.2 an approval carries its own card and its own card failure', () => {
  it('10.2 a card removed mid-approval: the outcome carries the typed transport error as its cause', async () => {
    const t = await setup();
    const view = await t.show(makeOffer(targetDevice(202), t.key));
    const r = await t.engine.approve(refOf(view), typedPin(PIN).source, {
      openCard: removedAtVerify(t.card.openCard),
    });
    expect(r.kind).toBe('card-error');
    expect(causeOf(r)).toBeInstanceOf(CardTransportError);
    expect(causeOf(r)?.code).toBe('card-removed');
    expect(t.defaultOpens()).toBe(0);
    // Nothing was signed: the offer is pending again and can be approved with the card back.
    expect(t.engine.offers().find((o) => o.offerId === view.offerId)?.phase).toBe('pending');
    const again = await t.engine.approve(refOf(view), typedPin(PIN).source, {
      openCard: t.card.openCard,
    });
    expect(again.kind).toBe('approved');
  });

  it('10.2 two concurrent approvals on different readers keep their own failures', async () => {
    const t = await setup();
    const a = await t.show(makeOffer(targetDevice(202), t.key));
    const b = await t.show(makeOffer(targetDevice(203), t.key));
    const c = await t.show(makeOffer(targetDevice(204), t.key));
    let bothStarted!: () => void;
    const started = new Promise<void>((r) => (bothStarted = r));
    const running = [
      t.engine.approve(refOf(a), typedPin(PIN).source, {
        openCard: removedAtVerify(t.card.openCard, { when: started }),
      }),
      t.engine.approve(refOf(b), typedPin(PIN).source, { openCard: busyReader }),
      t.engine.approve(refOf(c), typedPin(PIN).source, { openCard: brokenDriver(started) }),
    ];
    bothStarted();
    const [ra, rb, rc] = await Promise.all(running);
    expect([ra!.kind, rb!.kind, rc!.kind]).toEqual(['card-error', 'card-error', 'card-error']);
    expect(causeOf(ra!)?.code).toBe('card-removed');
    expect(causeOf(rb!)?.code).toBe('sharing-violation');
    expect(causeOf(rc!)).toBeUndefined();
    expect(rc!.kind === 'card-error' && rc!.message).toMatch(/driver bug/);
    expect(t.defaultOpens()).toBe(0);
  });

  it("10.2 an approval that names no card uses the engine's own card; with none, it is refused before the audit", async () => {
    const server = await fakeServer();
    const card = await custodianCard();
    const start = (openCard: (() => Promise<CardTransport>) | undefined) => {
      const eng = startEngine({
        url: server.url,
        // The harness always names a card; `undefined` stands for a front end without one.
        openCard: openCard as () => Promise<CardTransport>,
        keyId: card.key.keyId,
        keyChr: card.key.chr,
      });
      cleanups.push(
        () => eng.engine.stop(),
        () => eng.audit.close(),
      );
      return eng;
    };
    cleanups.push(() => server.close());
    const offer = makeOffer(targetDevice(202), { keyId: card.key.keyId, chr: card.key.chr });
    const shownBy = async (eng: ReturnType<typeof start>) => {
      await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
      server.broadcast(offer);
      const added = await eng.next((e) => e.type === 'offer-added');
      if (added.type !== 'offer-added') throw new Error('unreachable');
      return added.offer;
    };
    const none = start(undefined);
    const refused = await none.engine.approve(refOf(await shownBy(none)), typedPin(PIN).source);
    expect(refused).toMatchObject({
      kind: 'refused',
      message: expect.stringMatching(/no custodian card/),
    });
    expect(card.opens).toBe(0);
    none.audit.sync();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(none.auditPath, 'utf8')).not.toMatch(/"approval"/);
    none.engine.stop();

    const own = start(card.openCard);
    const r = await own.engine.approve(refOf(await shownBy(own)), typedPin(PIN).source);
    expect(r.kind).toBe('approved');
    expect(card.opens).toBe(1);
  });

  it('10.2 a refusal by the re-check before the card carries its reason, not only words', async () => {
    const t = await setup();
    const target = targetDevice(205);
    const first = makeOffer(target, t.key);
    // Another ceremony for the same target and challenge (a replay once the first is signed).
    const again = makeOffer(target, t.key, {
      ceremonyId: `${first.ceremonyId}-b`,
      offerId: `${first.offerId}-b`,
      challenge: first.challenge,
      script: first.script,
    });
    const a = await t.show(first);
    const b = await t.show(again);
    const opts = { openCard: t.card.openCard };
    expect((await t.engine.approve(refOf(a), typedPin(PIN).source, opts)).kind).toBe('approved');
    const replay = await t.engine.approve(refOf(b), typedPin(PIN).source, opts);
    expect(replay).toMatchObject({ kind: 'refused', reason: 'replayed' });
    // No pending offer at all is not a re-check refusal: no reason.
    const gone = await t.engine.approve(refOf(b), typedPin(PIN).source, opts);
    expect(gone.kind).toBe('refused');
    expect(gone.kind === 'refused' && gone.reason).toBeUndefined();
  });
});
