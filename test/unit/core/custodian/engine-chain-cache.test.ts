import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditLog } from '../../../../core/audit/audit-log';
import { createChainCache, type ChainValidator } from '../../../../core/custodian/chain-cache';
import { createCustodianEngine } from '../../../../core/custodian/engine';
import type { EngineEvent } from '../../../../core/custodian/engine-types';
import { createWsConnector } from '../../../../core/net/ws-transport';
import { validateDeviceChain } from '../../../../shared/cvc/chain';
import type { ClientMessage, DecisionMessage } from '../../../../shared/protocol/index';
import {
  anchorOf,
  custodianCard,
  fakeServer,
  makeOffer,
  PIN,
  targetDevice,
  typedPin,
} from '../../../integration/custodian/harness';
import { shownRef } from '../../../integration/custodian/offer-ref';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const server = await fakeServer();
  const card = await custodianCard(151);
  const calls = { n: 0 };
  const validator: ChainValidator = (bytes, anchors, now) => {
    calls.n += 1;
    return validateDeviceChain(bytes, anchors, now);
  };
  const audit = openAuditLog(join(mkdtempSync(join(tmpdir(), 'cache-audit-')), 'audit.jsonl'));
  const events: EngineEvent[] = [];
  const engine = createCustodianEngine({
    url: server.url,
    connector: createWsConnector(),
    auth: { kind: 'session', custodianId: 'cust-1', credential: 'C'.repeat(43) },
    anchors: [anchorOf()],
    ownKey: { keyId: card.key.keyId, chr: card.key.chr },
    openCard: card.openCard,
    audit,
    reconnect: false,
    chainCache: createChainCache({ validator }),
  });
  engine.on((e) => events.push(e));
  engine.start();
  cleanups.push(
    () => engine.stop(),
    () => audit.close(),
    () => server.close(),
  );
  await server.next((m) => m.type === 'hello');
  const until = async (pred: (e: EngineEvent) => boolean) => {
    for (let i = 0; i < 500 && !events.some(pred); i++) await new Promise((r) => setTimeout(r, 5));
    const hit = events.find(pred);
    if (!hit) throw new Error('event not seen');
    return hit;
  };
  await until((e) => e.type === 'connection' && e.state.kind === 'authenticated');
  return { server, card, engine, calls, until, key: { keyId: card.key.keyId, chr: card.key.chr } };
}

const signs = (seen: Uint8Array[]) => seen.filter((a) => a[0] === 0x80 && a[1] === 0x68).length;
const decisionOf = (offerId: string) => (m: ClientMessage) =>
  m.type === 'decision' && m.offerId === offerId;

describe('engine: offer chains are verified with ECDSA once', () => {
  it('arrival validates the chain, the re-check before the card reuses it; approval succeeds', async () => {
    const t = await setup();
    const target = targetDevice(501);
    const offer = makeOffer(target, t.key);
    t.server.broadcast(offer);
    await t.until((e) => e.type === 'offer-added');
    expect(t.calls.n).toBe(1);
    const outcome = await t.engine.approve(
      shownRef(t.engine, offer.ceremonyId),
      typedPin(PIN).source,
    );
    expect(outcome.kind).toBe('approved');
    expect(t.calls.n).toBe(1);
    const d = (await t.server.next(decisionOf(offer.offerId))) as DecisionMessage;
    expect(d.decision.kind).toBe('approve');
    // A second ceremony for the same target: its chain is a hit already on arrival.
    const second = makeOffer(target, t.key);
    t.server.broadcast(second);
    await t.until((e) => e.type === 'offer-added' && e.offer.offerId === second.offerId);
    expect(t.calls.n).toBe(1);
  });

  it('two open ceremonies with the same target and challenge: the second is refused as a replay', async () => {
    const t = await setup();
    const target = targetDevice(502);
    const first = makeOffer(target, t.key);
    const second = makeOffer(target, t.key, {
      challenge: first.challenge,
      script: first.script,
    });
    t.server.broadcast(first);
    t.server.broadcast(second);
    await t.until((e) => e.type === 'offer-added' && e.offer.offerId === second.offerId);
    expect(
      (await t.engine.approve(shownRef(t.engine, first.ceremonyId), typedPin(PIN).source)).kind,
    ).toBe('approved');
    const again = await t.engine.approve(
      shownRef(t.engine, second.ceremonyId),
      typedPin(PIN).source,
    );
    expect(again).toMatchObject({ kind: 'refused', message: expect.stringMatching(/replay/) });
    expect(signs(t.card.seen)).toBe(1);
    const d = (await t.server.next(decisionOf(second.offerId))) as DecisionMessage;
    expect(d.decision.kind).toBe('decline');
  });
});
