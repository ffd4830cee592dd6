/**
 * Issue 11 item 4: expiry is decided by ONE time source, the monotonic clock the timers use.
 * A wall-clock jump between the custodian card's signature and the server's check must not
 * burn the approval, nor end an unlock window early; a monotonic deadline that passed refuses
 * the decision before anything reaches the target, whatever the wall clock says. Clocks are
 * injected (AppDeps.clock, AppDeps.monotonic).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CardTransport } from '../../../core/card/transport';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import type { RunningServer } from '../../../server/app';
import {
  PROTOCOL_VERSION,
  type ErrorMessage,
  type ResultMessage,
  type ServerMessage,
} from '../../../shared/protocol';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  type ScriptedCustodian,
} from '../server/harness';

let server: RunningServer | undefined;
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

const HOURS_2 = 2 * 3600_000;

/** Holds EXTERNAL AUTHENTICATE (`00 82`) at the target until `release()`. */
function gate() {
  let open: () => void = () => undefined;
  const state = { held: false, closed: undefined as Promise<void> | undefined };
  return {
    state,
    close() {
      state.closed = new Promise<void>((r) => (open = r));
    },
    release: () => open(),
  };
}

async function world(g = gate()) {
  const clocks = { wall: 0, mono: 0 };
  const card = await targetCard(3, 2);
  const opener = async (): Promise<CardTransport> => {
    const inner = createInProcessTransport(card);
    return {
      get atr() {
        return inner.atr;
      },
      transmit: async (apdu) => {
        if (apdu[1] === 0x82 && g.state.closed) {
          g.state.held = true;
          await g.state.closed;
        }
        return inner.transmit(apdu);
      },
      transaction: (fn) => inner.transaction(fn),
      reset: () => inner.reset(),
      close: (d) => inner.close(d),
    };
  };
  const s = await startTestServer(
    { card, opens: 0, fail: false },
    dataDir(),
    { ceremonyDefaults: { expiresInSeconds: 600 } },
    {
      clock: () => new Date(Date.now() + clocks.wall),
      monotonic: () => performance.now() + clocks.mono,
      openerFor: () => opener,
    },
  );
  server = s;
  const cs: ScriptedCustodian[] = [];
  for (const name of ['alice', 'bob', 'carol']) {
    const c = await enroll(s, await custodianCard(), name);
    clients.push(c);
    cs.push(c);
  }
  const r = await adminApi<{ id: string }>(s, 'POST', '/api/ceremonies', {
    target: 't1',
    purpose: 'clock drill',
    requester: 'ops',
  });
  expect(r.status).toBe(201);
  return { s, cs, clocks, id: r.body.id };
}

const isResult = (m: ServerMessage): m is ResultMessage => m.type === 'result';
const isError = (m: ServerMessage): m is ErrorMessage => m.type === 'error';
const cardCount = async (s: RunningServer) =>
  (await adminApi<{ pka: { authenticated: number } }>(s, 'GET', '/api/targets/t1')).body.pka
    .authenticated;

function decide(c: ScriptedCustodian, ceremonyId: string, offerId: string, rapdus: string[]) {
  c.send({
    v: PROTOCOL_VERSION,
    type: 'decision',
    ceremonyId,
    offerId,
    decision: { kind: 'approve', results: rapdus.map((rapdu) => ({ rapdu })) },
  });
}

describe('11.4 one time source for expiry', () => {
  it('11.4 +2 h wall-clock jump between the card step and the check: the approval counts', async () => {
    const { s, cs, clocks, id } = await world();
    const [alice, bob] = [cs[0]!, cs[1]!];
    const offer = await alice.offer(id);
    const rapdus = await alice.runScript(offer); // the custodian's card signed
    clocks.wall += HOURS_2;
    decide(alice, id, offer.offerId, rapdus);
    const r = await alice.waitFor(isResult);
    expect(r.outcome).toBe('accepted');
    expect(await cardCount(s)).toBe(1);
    const snap = await adminApi<{ state: string }>(s, 'GET', `/api/ceremonies/${id}`);
    expect(snap.body.state).toBe('open');
    expect(s.store.audit.tail(50).some((e) => e.event === 'approval')).toBe(true);
    // Quorum after a second jump; the unlock window is not ended by the wall clock either.
    const bobOffer = await bob.offer(id);
    const bobRapdus = await bob.runScript(bobOffer);
    clocks.wall += HOURS_2;
    decide(bob, id, bobOffer.offerId, bobRapdus);
    expect((await bob.waitFor(isResult)).outcome).toBe('accepted');
    clocks.wall += HOURS_2;
    const sign = await adminApi<{ signatures: string[] }>(s, 'POST', '/api/targets/t1/sign', {
      key: '1',
      digests: ['11'.repeat(32)],
    });
    expect(sign.status).toBe(200);
    expect(sign.body.signatures).toHaveLength(1);
  }, 60_000);

  it('11.4 monotonic deadline passed: refused before the target, whatever the wall clock says', async () => {
    const { s, cs, clocks, id } = await world();
    const alice = cs[0]!;
    const offer = await alice.offer(id);
    const rapdus = await alice.runScript(offer);
    clocks.mono += 601_000;
    decide(alice, id, offer.offerId, rapdus);
    const e = await alice.waitFor(isError);
    expect(e.code).toBe('offer-expired');
    expect(await cardCount(s)).toBe(0);
    expect(s.store.ceremonies.approvals(id)).toEqual([]);
  }, 60_000);

  it('11.4 closed while the target answers: the accepted approval is recorded, the card reset', async () => {
    const g = gate();
    const { s, cs, id } = await world(g);
    const alice = cs[0]!;
    const offer = await alice.offer(id);
    g.close();
    await alice.approve(offer);
    while (!g.state.held) await new Promise((r) => setTimeout(r, 10));
    const cancel = adminApi(s, 'POST', `/api/ceremonies/${id}/cancel`);
    while (
      (await adminApi<{ state: string }>(s, 'GET', `/api/ceremonies/${id}`)).body.state !==
      'cancelled'
    )
      await new Promise((r) => setTimeout(r, 10));
    g.release();
    expect((await cancel).status).toBe(200);
    expect((await alice.waitFor(isResult)).outcome).toBe('accepted');
    const rows = s.store.ceremonies.approvals(id);
    expect(rows.map((r) => [r.custodianId, r.outcome])).toEqual([[alice.custodianId, 'approved']]);
    expect(s.store.audit.tail(50).some((e) => e.event === 'approval')).toBe(true);
    // The card holds no authentication for the closed ceremony.
    expect(await cardCount(s)).toBe(0);
  }, 60_000);
});
