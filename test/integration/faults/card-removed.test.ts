/**
 * Fault: the custodian's card is removed in the middle of an approval. Defined outcome: the
 * approval ends as `card-error` (no exception, no hang), the failure is audited, no decision
 * goes to the server and nothing is counted at the target; the offer is still pending, and an
 * approval after re-inserting the card works and is counted exactly once.
 * The PC/SC variant yanks a real virtual card out of a vpcd reader (pcscd reports the removal).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import type { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import type { RunningServer } from '../../../server/app';
import type { Custodian } from '../e2e/world';
import { typed } from '../e2e/world';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { insertVirtualCard, type InsertedCard } from '../helpers/virtual-card-harness';
import { auditLines } from '../hostile/world';
import {
  cardAuthenticated,
  ceremony,
  faultWorld,
  PIN,
  requestCeremony,
  sessionEngine,
  type FaultWorld,
} from './world';
import { shownRef } from '../custodian/offer-ref';

const availability = await pcscAvailability();

const engines: Custodian[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) {
    e.engine.stop();
    e.audit.close();
  }
  for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
});

async function world(): Promise<FaultWorld> {
  const w = await faultWorld(['alice', 'bob', 'carol']);
  servers.push(w.server);
  return w;
}

function engine(w: FaultWorld, i: number): Custodian {
  const e = sessionEngine(w, i, w.server.wsUrl);
  engines.push(e);
  return e;
}

const decisionsSent = (e: Custodian, ceremonyId: string) =>
  e.sent.filter((f) => f.includes('"decision"') && f.includes(ceremonyId));

/** After a failed approval: audited, nothing sent, nothing counted, offer still pending. */
async function expectNothingCounted(w: FaultWorld, e: Custodian, id: string, auditFrom: number) {
  const audit = auditLines(e.auditPath).slice(auditFrom);
  expect(audit.find((l) => l.kind === 'approval')?.data['ceremonyId']).toBe(id);
  const error = audit.find((l) => l.kind === 'error' && l.data['what'] === 'card');
  expect(error?.data).toMatchObject({ ceremonyId: id });
  expect(
    audit.some((l) => l.kind === 'apdu-forwarded' && String(l.data['header']).startsWith('80 68')),
  ).toBe(false);
  await new Promise((r) => setTimeout(r, 200));
  expect(decisionsSent(e, id)).toEqual([]);
  expect(await ceremony(w.server, id)).toMatchObject({
    state: 'open',
    progress: { authenticated: 0 },
  });
  expect(await cardAuthenticated(w.server)).toBe(0);
  expect(e.engine.offers().find((o) => o.ceremonyId === id)?.phase).toBe('pending');
}

/** The retry after re-insertion: approved, one decision, counted once. */
async function expectRetryCountsOnce(w: FaultWorld, e: Custodian, id: string) {
  const pin = typed(PIN);
  const r = await e.engine.approve(shownRef(e.engine, id), pin.source);
  expect(r.kind).toBe('approved');
  const res = await e.next((x) => x.type === 'result' && x.result.ceremonyId === id, 'result');
  expect(res.type === 'result' && res.result.outcome).toBe('accepted');
  expect(decisionsSent(e, id)).toHaveLength(1);
  expect(await ceremony(w.server, id)).toMatchObject({
    state: 'open',
    progress: { authenticated: 1 },
  });
  expect(await cardAuthenticated(w.server)).toBe(1);
}

describe('fault: card removed mid-approval (in-process card)', () => {
  it('pulled while the PIN is typed: card-error, audited, nothing counted; retry works', async () => {
    const w = await world();
    const alice = engine(w, 0);
    const card = w.custodians[0]!.card;
    const id = await requestCeremony(w.server);
    await alice.next((e) => e.type === 'offer-added' && e.offer.ceremonyId === id, 'offer');
    const from = auditLines(alice.auditPath).length;
    const pin = {
      kind: 'typed' as const,
      read: async () => {
        card.state.present = false; // the card leaves the reader while the custodian types
        return new TextEncoder().encode(PIN);
      },
    };
    const r = await alice.engine.approve(shownRef(alice.engine, id), pin);
    expect(r.kind).toBe('card-error');
    expect(card.signs()).toBe(0);
    await expectNothingCounted(w, alice, id, from);
    // Still gone: a second try fails at once, just as cleanly.
    expect((await alice.engine.approve(shownRef(alice.engine, id), typed(PIN).source)).kind).toBe(
      'card-error',
    );
    card.state.present = true;
    await expectRetryCountsOnce(w, alice, id);
    expect(card.signs()).toBe(1);
  });

  it('pulled on the SIGN itself: the signature never happened, nothing counted; retry works', async () => {
    const w = await world();
    const bob = engine(w, 1);
    const card = w.custodians[1]!.card;
    const id = await requestCeremony(w.server);
    await bob.next((e) => e.type === 'offer-added' && e.offer.ceremonyId === id, 'offer');
    const from = auditLines(bob.auditPath).length;
    card.onApdu((hex) => {
      if (hex.startsWith('8068')) card.state.present = false;
    });
    const r = await bob.engine.approve(shownRef(bob.engine, id), typed(PIN).source);
    expect(r.kind).toBe('card-error');
    expect(card.signs()).toBe(0);
    await expectNothingCounted(w, bob, id, from);
    card.onApdu(() => undefined);
    card.state.present = true;
    await expectRetryCountsOnce(w, bob, id);
    expect(card.signs()).toBe(1);
    // The PIN retry counter was not spent by the failed attempt (reset on the good VERIFY).
    expect(w.custodians[1]!.card.card.state.userPin?.retries).toBe(3);
  });
});

describePcsc('fault: card removed mid-approval over pcscd + vpcd', availability, (slots) => {
  let pcsc: Pcsc;
  let inserted: InsertedCard | undefined;
  beforeAll(async () => {
    pcsc = await openPcsc();
  });
  afterAll(async () => {
    await inserted?.stop().catch(() => undefined);
    await pcsc?.close();
  });

  it('yanked from the reader during the approval; re-inserted, the retry is counted once', async () => {
    const w = await world();
    const slot = slots[1]!;
    const emu: EmulatedSmartCardHsm = w.custodians[0]!.card.card;
    inserted = await insertVirtualCard(emu, slot, { pcsc });
    const alice = sessionEngine(
      {
        custodians: [
          {
            ...w.custodians[0]!,
            card: {
              ...w.custodians[0]!.card,
              openCard: () => pcsc.connect(slot.reader, { share: 'exclusive' }),
            },
          },
        ],
      },
      0,
      w.server.wsUrl,
    );
    engines.push(alice);
    const id = await requestCeremony(w.server);
    await alice.next((e) => e.type === 'offer-added' && e.offer.ceremonyId === id, 'offer');
    const from = auditLines(alice.auditPath).length;
    const card = inserted;
    const pin = {
      kind: 'typed' as const,
      read: async () => {
        await card.yank(); // pcscd has reported the removal when this resolves
        return new TextEncoder().encode(PIN);
      },
    };
    const r = await alice.engine.approve(shownRef(alice.engine, id), pin);
    expect(r.kind).toBe('card-error');
    await expectNothingCounted(w, alice, id, from);
    inserted = await insertVirtualCard(emu, slot, { pcsc });
    await expectRetryCountsOnce(w, alice, id);
    expect(emu.state.userPin?.retries).toBe(3);
  }, 90_000);
});
