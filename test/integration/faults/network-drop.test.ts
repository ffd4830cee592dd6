/**
 * Fault: the network between custodian and server drops (a TCP proxy in between cuts the
 * connections, refuses new ones, or loses the server's answers). Defined outcome: the engine
 * waits with growing, bounded, jittered back-off (docs/protocol.md §3.4), reconnects, the offer
 * is resumed (same offer id, not shown twice), a decision made while offline or whose result was
 * lost is delivered again, the card signs exactly once, and the target counts it exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import type { Custodian } from '../e2e/world';
import { typed } from '../e2e/world';
import {
  cardAuthenticated,
  ceremony,
  faultWorld,
  PIN,
  requestCeremony,
  sessionEngine,
  startProxy,
  type FaultWorld,
} from './world';
import { shownRef } from '../custodian/offer-ref';

type Proxy = Awaited<ReturnType<typeof startProxy>>;
const engines: Custodian[] = [];
const servers: RunningServer[] = [];
const proxies: Proxy[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) {
    e.engine.stop();
    e.audit.close();
  }
  for (const p of proxies.splice(0)) await p.close();
  for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
});

const BACKOFF = { initialMs: 100, maxMs: 800 };

async function setup() {
  const w: FaultWorld = await faultWorld(['alice', 'bob', 'carol']);
  servers.push(w.server);
  const proxy = await startProxy(Number(new URL(w.server.wsUrl).port));
  proxies.push(proxy);
  const url = `ws://127.0.0.1:${proxy.port}${new URL(w.server.wsUrl).pathname}`;
  const alice = sessionEngine(w, 0, url, BACKOFF);
  const bob = sessionEngine(w, 1, w.server.wsUrl, BACKOFF);
  engines.push(alice, bob);
  for (const e of [alice, bob])
    await e.next((x) => x.type === 'connection' && x.state.kind === 'authenticated', 'session');
  const id = await requestCeremony(w.server);
  await alice.next((e) => e.type === 'offer-added' && e.offer.ceremonyId === id, 'offer');
  return { w, proxy, alice, bob, id };
}

const authenticatedCount = (e: Custodian) =>
  e.events.filter((x) => x.type === 'connection' && x.state.kind === 'authenticated').length;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** bob completes the quorum: exactly n = 2 authentications, alice's counted once. */
async function finishWithBob(t: Awaited<ReturnType<typeof setup>>) {
  await t.bob.next((e) => e.type === 'offer-added' && e.offer.ceremonyId === t.id, 'bob offer');
  expect((await t.bob.engine.approve(shownRef(t.bob.engine, t.id), typed(PIN).source)).kind).toBe(
    'approved',
  );
  await until('quorum', async () => (await ceremony(t.w.server, t.id)).state === 'quorum');
  expect((await ceremony(t.w.server, t.id)).progress).toMatchObject({ authenticated: 2 });
  expect(await cardAuthenticated(t.w.server)).toBe(2);
}

describe('fault: network dropped', () => {
  it('approved while offline: back-off, reconnect, offer resumed, decision delivered once', async () => {
    const t = await setup();
    const offerId = t.alice.engine.offers()[0]!.offerId;
    t.proxy.ctl.refuse = true;
    t.proxy.dropAll();
    // Several refused attempts, each delay within the jittered, doubling, capped bound.
    await until(
      'three waits',
      () =>
        t.alice.events.filter((e) => e.type === 'connection' && e.state.kind === 'waiting')
          .length >= 3,
    );
    const waits = t.alice.events.flatMap((e) =>
      e.type === 'connection' && e.state.kind === 'waiting' ? [e.state] : [],
    );
    waits.forEach((s, i) => {
      expect(s.attempt).toBe(i + 1);
      expect(s.delayMs).toBeGreaterThanOrEqual(0);
      expect(s.delayMs).toBeLessThanOrEqual(Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** i));
    });

    // The custodian approves while offline: the card signs now, the decision waits.
    expect(
      (await t.alice.engine.approve(shownRef(t.alice.engine, t.id), typed(PIN).source)).kind,
    ).toBe('approved');
    expect(t.w.custodians[0]!.card.signs()).toBe(1);
    expect((await ceremony(t.w.server, t.id)).progress.authenticated).toBe(0);

    const sessions = authenticatedCount(t.alice);
    t.proxy.ctl.refuse = false;
    const res = await t.alice.next(
      (e) => e.type === 'result' && e.result.offerId === offerId,
      'result after reconnect',
    );
    expect(res.type === 'result' && res.result.outcome).toBe('accepted');
    expect(authenticatedCount(t.alice)).toBe(sessions + 1);
    // Resumed, not re-offered: one offer-added for this ceremony, never signed again.
    expect(
      t.alice.events.filter((e) => e.type === 'offer-added' && e.offer.ceremonyId === t.id),
    ).toHaveLength(1);
    expect(t.w.custodians[0]!.card.signs()).toBe(1);
    expect((await ceremony(t.w.server, t.id)).progress.authenticated).toBe(1);
    expect(await cardAuthenticated(t.w.server)).toBe(1);
    await finishWithBob(t);
  });

  it('the result is lost on the way back: the decision is re-sent, the server counts it once', async () => {
    const t = await setup();
    const offerId = t.alice.engine.offers()[0]!.offerId;
    t.proxy.ctl.swallowDownstream = true;
    expect(
      (await t.alice.engine.approve(shownRef(t.alice.engine, t.id), typed(PIN).source)).kind,
    ).toBe('approved');
    // The decision reached the server and was counted; alice never heard back.
    await until(
      'server counted',
      async () => (await ceremony(t.w.server, t.id)).progress.authenticated === 1,
    );
    expect(t.alice.events.some((e) => e.type === 'result')).toBe(false);

    t.proxy.dropAll();
    t.proxy.ctl.swallowDownstream = false;
    const res = await t.alice.next(
      (e) => e.type === 'result' && e.result.offerId === offerId,
      'result after reconnect',
    );
    expect(res.type === 'result' && res.result.outcome).toBe('accepted');
    // The same decision frame went out again after the reconnect; the server de-duplicated it.
    const decisions = t.alice.sent.filter((f) => f.includes('"decision"') && f.includes(offerId));
    expect(decisions.length).toBeGreaterThanOrEqual(2);
    expect(new Set(decisions).size).toBe(1);
    expect(t.w.custodians[0]!.card.signs()).toBe(1);
    expect((await ceremony(t.w.server, t.id)).progress.authenticated).toBe(1);
    expect(await cardAuthenticated(t.w.server)).toBe(1);
    await finishWithBob(t);
  });
});
