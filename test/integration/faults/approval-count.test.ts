/**
 * Issue 12 §2 with issue 11's rule: the target's queue holds only card work (no store write or
 * audit commit between entering the queue and the card command; the intent is durable before
 * the queue), the PKA status is read only where it decides something, and an approval is
 * recorded as counted exactly when the card counted it — also when the target's answer is
 * ambiguous (another status word, an unreadable answer, a lost connection). Checked against an
 * ordered event log (queue entry, APDUs, store writes) and the card's own count; no timing.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CardTransportError, type CardTransport } from '../../../core/card/transport';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import type { RunningServer } from '../../../server/app';
import type {
  ErrorMessage,
  OfferMessage,
  ResultMessage,
  ServerMessage,
} from '../../../shared/protocol';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  type CustodianCard,
  type ScriptedCustodian,
} from '../server/harness';

/** What the fake target does with the next EXTERNAL AUTHENTICATE (`00 82`). */
type EaFault =
  | 'none'
  /** The card counts it, but the answer carries 6F00. */
  | 'counted-other-sw'
  /** The card never sees it; the answer is 6982. */
  | 'refused-not-counted'
  /** The card counts it; the answer is lost (a non-transport error). */
  | 'counted-unreadable'
  /** The card never sees it; the answer is lost. */
  | 'lost-not-counted'
  /** The card never sees it, yet 9000 comes back. */
  | 'lying-9000'
  /** The card counts it, then the connection fails. */
  | 'counted-then-transport-error';

let cards: CustodianCard[];
beforeAll(async () => {
  cards = [await custodianCard(), await custodianCard(), await custodianCard()];
});

let server: RunningServer | undefined;
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

async function world(n: number) {
  const log: string[] = [];
  const fault = {
    next: 'none' as EaFault,
    hold: undefined as Promise<void> | undefined,
    held: false,
  };
  const card = await targetCard(3, n);
  const ok = Uint8Array.of(0x90, 0x00);
  const opener = async (): Promise<CardTransport> => {
    const inner = createInProcessTransport(card);
    return {
      get atr() {
        return inner.atr;
      },
      transmit: async (apdu) => {
        log.push(`apdu ${apdu[1]!.toString(16).padStart(2, '0')}`);
        if (apdu[1] === 0x82 && fault.hold) {
          fault.held = true;
          await fault.hold;
        }
        if (apdu[1] !== 0x82 || fault.next === 'none') return inner.transmit(apdu);
        const f = fault.next;
        fault.next = 'none';
        if (f === 'refused-not-counted') return Uint8Array.of(0x69, 0x82);
        if (f === 'lying-9000') return ok;
        if (f === 'lost-not-counted') throw new Error('garbled answer');
        const r = await inner.transmit(apdu);
        expect(Array.from(r.subarray(-2))).toEqual([0x90, 0x00]);
        if (f === 'counted-other-sw') return Uint8Array.of(0x6f, 0x00);
        if (f === 'counted-unreadable') throw new Error('garbled answer');
        throw new CardTransportError('io', 'reader unplugged mid-answer');
      },
      transaction: (fn) => inner.transaction(fn),
      reset: () => inner.reset(),
      close: (d) => inner.close(d),
    };
  };
  const s = await startTestServer(
    { card, opens: 0, fail: false },
    dataDir(),
    {},
    { openerFor: () => opener },
  );
  server = s;
  // Every store write, in order with the card commands (audit entries live in the same store).
  const prepare = s.store.db.prepare.bind(s.store.db);
  s.store.db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (!/^\s*(INSERT|UPDATE|DELETE)/i.test(sql)) return stmt;
    const run = stmt.run.bind(stmt);
    const what = /INTO approvals[\s\S]*'pending'/.test(sql) ? 'intent' : sql.trim().slice(0, 24);
    stmt.run = ((...args: unknown[]) => {
      log.push(`write ${what}`);
      return run(...(args as []));
    }) as typeof stmt.run;
    return stmt;
  }) as typeof s.store.db.prepare;
  const t = s.targets.get('t1')!;
  const run = t.run.bind(t);
  t.run = ((fn) =>
    run((card, chain) => {
      log.push('queue');
      return fn(card, chain);
    })) as typeof t.run;
  const cs: ScriptedCustodian[] = [];
  for (const [i, name] of ['alice', 'bob', 'carol'].entries()) {
    const c = await enroll(s, cards[i]!, name);
    clients.push(c);
    cs.push(c);
  }
  const r = await adminApi<{ id: string }>(s, 'POST', '/api/ceremonies', {
    target: 't1',
    purpose: 'count drill',
    requester: 'ops',
  });
  expect(r.status).toBe(201);
  return { s, cs, log, fault, id: r.body.id };
}

type Snap = { state: string; epoch: number; progress: { authenticated: number } };
const snap = async (s: RunningServer, id: string) =>
  (await adminApi<Snap>(s, 'GET', `/api/ceremonies/${id}`)).body;
const cardCount = async (s: RunningServer) =>
  (await adminApi<{ pka: { authenticated: number } }>(s, 'GET', '/api/targets/t1')).body.pka
    .authenticated;
const answered =
  (offer: OfferMessage) =>
  (m: ServerMessage): m is ResultMessage | ErrorMessage =>
    (m.type === 'result' || m.type === 'error') && m.offerId === offer.offerId;
/** Approved answers recorded in the ceremony's current epoch. */
const approvedNow = (s: RunningServer, id: string, epoch: number) =>
  s.store.ceremonies.approvals(id, epoch).filter((a) => a.outcome === 'approved').length;

describe('issue 12 §2: the target queue holds card work only', () => {
  it('12.2 no store write between queue entry and the card; intents first; status read once, at quorum', async () => {
    const { s, cs, log, id } = await world(3);
    const offers = await Promise.all(cs.map((c) => c.offer(id)));
    log.length = 0;
    // All three at once: their decisions queue up at the target.
    await Promise.all(cs.map((c, i) => c.approve(offers[i]!)));
    await Promise.all(cs.map((c, i) => c.waitFor(answered(offers[i]!))));
    const done = await snap(s, id);
    expect(done.state).toBe('quorum');
    const during = [...log];
    expect(await cardCount(s)).toBe(3);
    const mses = during.flatMap((e, i) => (e === 'apdu 22' ? [i] : []));
    expect(mses).toHaveLength(3);
    for (const [k, at] of mses.entries()) {
      // The queue entry that led to this MSE SET AT, and nothing written since.
      const entry = during.lastIndexOf('queue', at);
      expect(entry, `MSE ${k}`).toBeGreaterThanOrEqual(0);
      expect(during.slice(entry + 1, at), `MSE ${k}`).toEqual([]);
      // Intent before the card step: at least k + 1 intents are durable before the k-th MSE.
      expect(during.slice(0, at).filter((e) => e === 'write intent').length).toBeGreaterThan(k);
      expect(during[at + 1], `EXTERNAL AUTHENTICATE follows MSE ${k}`).toBe('apdu 82');
    }
    // Counted from the 9000s: the card's status is read once, where quorum is expected.
    expect(during.filter((e) => e === 'apdu 54')).toHaveLength(1);
    expect(during.lastIndexOf('apdu 54')).toBeGreaterThan(mses[2]!);
    const events = s.store.audit.tail(100).map((e) => e.event);
    expect(events.filter((e) => e === 'approval')).toHaveLength(3);
    expect(events.indexOf('approval-intent')).toBeLessThan(events.indexOf('approval'));
    expect(s.store.audit.verify().ok).toBe(true);
  }, 60_000);
});

describe('issue 12 §2: an approval is recorded as counted iff the card counted it', () => {
  const cases: { fault: EaFault; counted: boolean }[] = [
    { fault: 'counted-other-sw', counted: true },
    { fault: 'refused-not-counted', counted: false },
    { fault: 'counted-unreadable', counted: true },
    { fault: 'lost-not-counted', counted: false },
  ];
  for (const { fault, counted } of cases) {
    it(`12.2 ambiguous target answer (${fault}): the record follows the card's own count`, async () => {
      const { s, cs, id, fault: f } = await world(2);
      const [alice, bob] = [cs[0]!, cs[1]!];
      const offer = await alice.offer(id);
      f.next = fault;
      await alice.approve(offer);
      const answer = await alice.waitFor(answered(offer));
      expect(answer.type).toBe('result');
      if (answer.type === 'result') expect(answer.outcome).toBe(counted ? 'accepted' : 'refused');
      expect(await cardCount(s)).toBe(counted ? 1 : 0);
      expect(approvedNow(s, id, 1)).toBe(counted ? 1 : 0);
      expect((await snap(s, id)).progress.authenticated).toBe(counted ? 1 : 0);
      expect(s.store.ceremonies.pendingIntents()).toEqual([]);
      if (!counted) return;
      // Quorum is reached with the card's count and the record agreeing.
      const bobOffer = await bob.offer(id);
      await bob.approve(bobOffer);
      await bob.waitFor(answered(bobOffer));
      expect((await snap(s, id)).state).toBe('quorum');
      expect(approvedNow(s, id, 1)).toBe(2);
      expect(s.store.audit.verify().ok).toBe(true);
    }, 60_000);
  }

  it('12.2 a 9000 the card did not count never opens the unlock: quorum waits for the card', async () => {
    const { s, cs, id, fault: f } = await world(2);
    const [alice, bob, carol] = [cs[0]!, cs[1]!, cs[2]!];
    const offers = await Promise.all(cs.map((c) => c.offer(id)));
    f.next = 'lying-9000';
    await alice.approve(offers[0]!);
    await alice.waitFor(answered(offers[0]!));
    // Counted from the 9000 (the record may be above the card, never below) …
    expect(approvedNow(s, id, 1)).toBe(1);
    expect(await cardCount(s)).toBe(0);
    await bob.approve(offers[1]!);
    await bob.waitFor(answered(offers[1]!));
    // … but where quorum is expected, the card's own status decides: 1 of 2, still open.
    expect(await cardCount(s)).toBe(1);
    expect((await snap(s, id)).state).toBe('open');
    await carol.approve(offers[2]!);
    await carol.waitFor(answered(offers[2]!));
    expect((await snap(s, id)).state).toBe('quorum');
    expect(await cardCount(s)).toBe(2);
    expect(approvedNow(s, id, 1)).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('12.2 counted, then the connection fails: the card forgets, nothing is recorded as counted', async () => {
    const { s, cs, id, fault: f } = await world(2);
    const alice = cs[0]!;
    const offer = await alice.offer(id);
    f.next = 'counted-then-transport-error';
    await alice.approve(offer);
    // The target service drops the connection (closing resets the card) and re-opens.
    for (let i = 0; (await snap(s, id)).epoch !== 2; i++) {
      if (i > 400) throw new Error('not re-opened');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await cardCount(s)).toBe(0);
    expect(approvedNow(s, id, 1)).toBe(0);
    expect(approvedNow(s, id, 2)).toBe(0);
    expect(s.store.ceremonies.pendingIntents()).toEqual([]);
    expect(s.store.audit.verify().ok).toBe(true);
  }, 60_000);

  it('12.2 an intent whose ceremony closed while it waited for the queue is resolved, never presented', async () => {
    const { s, cs, log, id, fault: f } = await world(3);
    const [alice, bob] = [cs[0]!, cs[1]!];
    const [ao, bo] = [await alice.offer(id), await bob.offer(id)];
    let release: () => void = () => undefined;
    f.hold = new Promise<void>((r) => (release = r));
    await alice.approve(ao);
    while (!f.held) await new Promise((r) => setTimeout(r, 10));
    // Bob's intent is durable before the queue; his decision then waits behind alice's.
    await bob.approve(bo);
    while (!s.store.ceremonies.approvals(id).some((a) => a.custodianId === bob.custodianId))
      await new Promise((r) => setTimeout(r, 10));
    const cancel = adminApi(s, 'POST', `/api/ceremonies/${id}/cancel`);
    while ((await snap(s, id)).state !== 'cancelled') await new Promise((r) => setTimeout(r, 10));
    f.hold = undefined;
    release();
    expect((await cancel).status).toBe(200);
    expect((await alice.waitFor(answered(ao))).type).toBe('result');
    const bobAnswer = await bob.waitFor(answered(bo));
    expect(bobAnswer.type === 'error' && bobAnswer.code).toBe('offer-expired');
    // Alice's signature reached the card: recorded; bob's never did: resolved as failed.
    const rows = s.store.ceremonies.approvals(id).map((a) => [a.custodianId, a.outcome]);
    expect(rows).toEqual(
      expect.arrayContaining([
        [alice.custodianId, 'approved'],
        [bob.custodianId, 'failed'],
      ]),
    );
    expect(s.store.ceremonies.pendingIntents()).toEqual([]);
    expect(log.filter((e) => e === 'apdu 82')).toHaveLength(1);
    const failed = s.store.audit.tail(100).filter((e) => e.event === 'approval-failed');
    expect(failed).toHaveLength(1);
    expect(String((failed[0]!.data as { reason?: string }).reason)).toMatch(/not presented/);
    expect(await cardCount(s)).toBe(0);
    expect(s.store.audit.verify().ok).toBe(true);
  }, 60_000);
});
