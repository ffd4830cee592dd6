import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileDecisionStore } from '../../../core/custodian/decision-store';
import type { ClientMessage } from '../../../shared/protocol/index';
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

const keyOpts = (key: { keyId: number; chr: string }) => ({ keyId: key.keyId, keyChr: key.chr });

const decisions = (ms: ClientMessage[], offerId: string) =>
  ms.filter((m) => m.type === 'decision' && m.offerId === offerId);

describe('reconnect and resume', () => {
  it('reconnects with back-off after a drop, resumes the offer, never approves twice', async () => {
    const server = await fakeServer();
    const card = await custodianCard();
    const target = targetDevice();
    const key = { keyId: card.key.keyId, chr: card.key.chr };
    const offer = makeOffer(target, key);
    // The server (re-)sends the pending offer after every welcome, as after a restart.
    server.setOnHello((ws) => {
      server.send(ws, {
        v: 1,
        type: 'welcome',
        custodianId: 'cust-1',
        serverTime: '2026-11-27T00:00:00Z',
        heartbeatSeconds: 15,
      });
      server.send(ws, offer);
    });
    const t = startEngine({
      url: server.url,
      openCard: card.openCard,
      keyId: key.keyId,
      keyChr: key.chr,
    });
    cleanups.push(
      () => t.engine.stop(),
      () => t.audit.close(),
      () => server.close(),
    );
    await t.next((e) => e.type === 'offer-added');

    // Drop the connection abruptly (no close frame): the engine waits, then reconnects.
    server.current.terminate();
    await t.next((e) => e.type === 'connection' && e.state.kind === 'waiting');
    await new Promise<void>((resolve) => {
      const off = t.engine.on((e) => {
        if (e.type === 'connection' && e.state.kind === 'authenticated') {
          off();
          resolve();
        }
      });
    });
    expect(server.sockets.length).toBe(2);
    // The re-sent offer is the same offer: no second offer-added.
    await new Promise((r) => setTimeout(r, 50));
    expect(t.events.filter((e) => e.type === 'offer-added')).toHaveLength(1);
    expect(t.engine.offers()).toHaveLength(1);

    expect(
      (await t.engine.approve(shownRef(t.engine, offer.ceremonyId), typedPin(PIN).source)).kind,
    ).toBe('approved');
    await server.next((m) => m.type === 'decision');
    // A second approval of the same ceremony is refused; the card is not opened again.
    const opens = card.opens;
    expect(
      (await t.engine.approve(shownRef(t.engine, offer.ceremonyId), typedPin(PIN).source)).kind,
    ).toBe('refused');
    expect(card.opens).toBe(opens);

    // Another drop: the server re-sends the offer; the engine repeats its decision (same
    // results), it does not run the card again.
    server.current.terminate();
    await server.next((m) => m.type === 'hello', false);
    await new Promise((r) => setTimeout(r, 150));
    const sent = decisions(server.messages, offer.offerId);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sent.map((d) => JSON.stringify(d))).size).toBe(1);
    expect(card.opens).toBe(opens);
    const waits = t.events.flatMap((e) =>
      e.type === 'connection' && e.state.kind === 'waiting' ? [e.state.delayMs] : [],
    );
    expect(waits.length).toBeGreaterThanOrEqual(2);
    for (const d of waits) expect(d).toBeLessThanOrEqual(200);
  });

  it('after a client restart answers a re-sent decided offer from the decision file', async () => {
    const server = await fakeServer();
    const card = await custodianCard();
    const key = { keyId: card.key.keyId, chr: card.key.chr };
    const offer = makeOffer(targetDevice(), key);
    server.setOnHello((ws) => {
      server.send(ws, {
        v: 1,
        type: 'welcome',
        custodianId: 'cust-1',
        serverTime: new Date().toISOString(),
        heartbeatSeconds: 15,
      });
      server.send(ws, offer);
    });
    const file = join(mkdtempSync(join(tmpdir(), 'cust-dec-')), 'decisions.jsonl');
    const first = startEngine({
      url: server.url,
      openCard: card.openCard,
      ...keyOpts(key),
      decisions: fileDecisionStore(file),
    });
    cleanups.push(() => server.close());
    await first.next((e) => e.type === 'offer-added');
    expect(
      (await first.engine.approve(shownRef(first.engine, offer.ceremonyId), typedPin(PIN).source))
        .kind,
    ).toBe('approved');
    const sent = await server.next((m) => m.type === 'decision');
    first.engine.stop();
    first.audit.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const opens = card.opens;
    const second = startEngine({
      url: server.url,
      openCard: card.openCard,
      ...keyOpts(key),
      decisions: fileDecisionStore(file),
    });
    cleanups.push(
      () => second.engine.stop(),
      () => second.audit.close(),
    );
    await second.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
    await new Promise((r) => setTimeout(r, 100));
    const all = decisions(server.messages, offer.offerId);
    expect(all).toHaveLength(2);
    expect(all[1]).toEqual(sent);
    expect(second.events.some((e) => e.type === 'offer-added')).toBe(false);
    expect(card.opens).toBe(opens);
  });

  it('delivers a decision made while disconnected once the connection is back', async () => {
    const server = await fakeServer();
    const card = await custodianCard();
    const target = targetDevice();
    const key = { keyId: card.key.keyId, chr: card.key.chr };
    const offer = makeOffer(target, key);
    const t = startEngine({
      url: server.url,
      openCard: card.openCard,
      keyId: key.keyId,
      keyChr: key.chr,
      backoff: { initialMs: 300, maxMs: 300 },
    });
    cleanups.push(
      () => t.engine.stop(),
      () => t.audit.close(),
      () => server.close(),
    );
    await t.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
    server.broadcast(offer);
    await t.next((e) => e.type === 'offer-added');
    server.current.terminate();
    await t.next((e) => e.type === 'connection' && e.state.kind === 'waiting');
    expect(t.engine.decline(offer.ceremonyId)).toBe(true);
    expect(decisions(server.messages, offer.offerId)).toHaveLength(0);
    const d = await server.next((m) => m.type === 'decision' && m.offerId === offer.offerId);
    expect(d.type === 'decision' && d.decision.kind).toBe('decline');
  });
});
