/**
 * Ceremonies end to end: an in-process server drives an emulated target; scripted custodians
 * (real protocol module, real offer check) approve with emulated custodian cards.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import { main } from '../../../server/cli/main';
import type {
  OfferMessage,
  ResultMessage,
  UpdateMessage,
  ServerMessage,
  ErrorMessage,
} from '../../../shared/protocol';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  ScriptedCustodian,
  startTestServer,
  targetCard,
  type CustodianCard,
  type TargetHandle,
} from './harness';

type Snap = {
  id: string;
  state: string;
  epoch: number;
  createdAt: string;
  progress: { authenticated: number; approvedBy: string[] };
  reason?: string;
  unlocked?: unknown;
};

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

const isUpdate =
  (state: string, id?: string) =>
  (m: ServerMessage): m is UpdateMessage =>
    m.type === 'update' && m.state === state && (id === undefined || m.ceremonyId === id);
const isResult = (m: ServerMessage): m is ResultMessage => m.type === 'result';
const isError =
  (code: string) =>
  (m: ServerMessage): m is ErrorMessage =>
    m.type === 'error' && m.code === code;

/** Target 2-of-3 with three enrolled custodians. */
async function world(overrides: Parameters<typeof startTestServer>[2] = {}) {
  const target: TargetHandle = { card: await targetCard(3, 2), opens: 0, fail: false };
  const dir = dataDir();
  server = await startTestServer(target, dir, overrides);
  const cs = [] as ScriptedCustodian[];
  for (const [i, name] of ['alice', 'bob', 'carol'].entries()) {
    const c = await enroll(server, cards[i]!, name);
    clients.push(c);
    cs.push(c);
  }
  return { target, dir, cs };
}

async function request(s: RunningServer, expiresInSeconds?: number): Promise<Snap> {
  const r = await adminApi<Snap>(s, 'POST', '/api/ceremonies', {
    target: 't1',
    purpose: 'sign the release',
    requester: 'ops',
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  });
  expect(r.status).toBe(201);
  return r.body;
}

const status = async (s: RunningServer) =>
  (await adminApi<{ pka: { authenticated: number; missing: number } }>(s, 'GET', '/api/targets/t1'))
    .body.pka;

describe('ceremony', () => {
  it('enrollment registers every key at the target', async () => {
    await world();
    expect(await status(server!)).toMatchObject({ missing: 0, authenticated: 0 });
    const list = await adminApi<{ custodians: Array<{ name: string; enrolled: boolean }> }>(
      server!,
      'GET',
      '/api/targets/t1',
    );
    expect(list.body.custodians.map((c) => c.name).sort()).toEqual(['alice', 'bob', 'carol']);
  });

  it('2 of 3 reach quorum from the card status; everyone sees progress', async () => {
    const { cs } = await world();
    const c = await request(server!);
    const offers = await Promise.all(cs.map((x) => x.offer(c.id)));
    // One challenge for the ceremony, offered to all.
    expect(new Set(offers.map((o) => o.challenge)).size).toBe(1);
    // Each offer names every custodian of the target and marks its recipient (§5.2), and
    // carries the server's time of request.
    for (const [i, o] of offers.entries()) {
      expect(o.custodians?.map((x) => x.name).sort()).toEqual(['alice', 'bob', 'carol']);
      expect(o.custodians?.filter((x) => x.you).map((x) => x.name)).toEqual([
        ['alice', 'bob', 'carol'][i],
      ]);
      expect(o.requestedAt).toBe(c.createdAt);
    }
    await cs[0]!.approve(offers[0]!);
    const r0 = await cs[0]!.waitFor(isResult);
    expect(r0).toMatchObject({
      outcome: 'accepted',
      sw: 0x9000,
      progress: { authenticated: 1, approvedBy: ['alice'] },
    });
    await cs[2]!.waitFor(
      (m): m is UpdateMessage => m.type === 'update' && m.progress.authenticated === 1,
    );
    await cs[1]!.approve(offers[1]!);
    await cs[1]!.waitFor(isResult);
    for (const x of cs) await x.waitFor(isUpdate('quorum', c.id));
    const snap = (await adminApi<Snap>(server!, 'GET', `/api/ceremonies/${c.id}`)).body;
    expect(snap.state).toBe('quorum');
    expect(snap.progress).toEqual({ authenticated: 2, approvedBy: ['alice', 'bob'] });
    expect(snap.unlocked).toBeTruthy();
    expect(await status(server!)).toMatchObject({ authenticated: 2 });
  });

  it('a decline is recorded and does not count; a late decision is refused', async () => {
    const { cs } = await world();
    const c = await request(server!);
    const o = await cs[0]!.offer(c.id);
    cs[0]!.decline(o);
    await cs[1]!.waitFor(
      (m): m is UpdateMessage =>
        m.type === 'update' && (m.message ?? '').includes('alice declined'),
    );
    const snap = (
      await adminApi<Snap & { answers: Array<{ custodian: string; outcome: string }> }>(
        server!,
        'GET',
        `/api/ceremonies/${c.id}`,
      )
    ).body;
    expect(snap.answers).toEqual([
      expect.objectContaining({ custodian: 'alice', outcome: 'declined' }),
    ]);
    expect(snap.progress.authenticated).toBe(0);
    // Approving the same offer after declining is a different decision: refused.
    await cs[0]!.approve(o);
    await cs[0]!.waitFor(isError('already-decided'));
    expect(await status(server!)).toMatchObject({ authenticated: 0 });
  });

  it('fails as soon as the remaining custodians cannot reach the quorum', async () => {
    const { cs } = await world();
    const c = await request(server!);
    cs[0]!.decline(await cs[0]!.offer(c.id));
    await cs[2]!.waitFor(
      (m): m is UpdateMessage => m.type === 'update' && (m.message ?? '').includes('declined'),
    );
    cs[1]!.decline(await cs[1]!.offer(c.id));
    for (const x of cs) await x.waitFor(isUpdate('failed', c.id));
    const snap = (await adminApi<Snap>(server!, 'GET', `/api/ceremonies/${c.id}`)).body;
    expect(snap.reason).toMatch(/can no longer be reached/);
  });

  it('the admin can watch progress live until the ceremony ends', async () => {
    const { cs } = await world();
    const c = await request(server!);
    let out = '';
    const watching = main(
      [
        'ceremony',
        'status',
        c.id,
        '--watch',
        '--server',
        server!.url,
        '--admin-token',
        server!.adminToken,
      ],
      {},
      { out: (t) => void (out += t), err: (t) => void (out += t) },
    );
    await new Promise((r) => setTimeout(r, 200));
    await cs[0]!.approve(await cs[0]!.offer(c.id));
    await cs[0]!.waitFor(isResult);
    await adminApi(server!, 'POST', `/api/ceremonies/${c.id}/cancel`);
    expect(await watching).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/ open: 0\/2 authenticated/);
    expect(out).toMatch(/ open: 1\/2 authenticated \(alice\)/);
    expect(lines[lines.length - 1]).toMatch(/ cancelled: .*cancelled by admin/);
  });

  it('the same approval twice counts once (result re-sent), never twice at the card', async () => {
    const { cs } = await world();
    const c = await request(server!);
    const o = await cs[0]!.offer(c.id);
    const rapdus = await cs[0]!.runScript(o);
    const decision = {
      v: 1 as const,
      type: 'decision' as const,
      ceremonyId: c.id,
      offerId: o.offerId,
      decision: { kind: 'approve' as const, results: rapdus.map((rapdu) => ({ rapdu })) },
    };
    cs[0]!.send(decision);
    cs[0]!.send(decision);
    const first = await cs[0]!.waitFor(isResult);
    await cs[0]!.waitFor(isResult, 5000, cs[0]!.messages.indexOf(first) + 1);
    const results = cs[0]!.messages.filter(isResult);
    expect(results).toHaveLength(2);
    expect(results[1]).toEqual(results[0]);
    expect(await status(server!)).toMatchObject({ authenticated: 1 });
    // A replay of alice's signature under bob's offer is refused before reaching the card.
    const ob = await cs[1]!.offer(c.id);
    cs[1]!.send({ ...decision, offerId: ob.offerId });
    const rb = await cs[1]!.waitFor(isResult);
    expect(rb.outcome).toBe('refused');
    expect(await status(server!)).toMatchObject({ authenticated: 1 });
  });

  it('expires when quorum is not reached in time', async () => {
    const { cs } = await world();
    const c = await request(server!, 10);
    const o = await cs[0]!.offer(c.id);
    await cs[0]!.approve(o);
    await cs[0]!.waitFor(isResult);
    for (const x of cs) await x.waitFor(isUpdate('expired', c.id), 12_000);
    // The one authentication made is dropped with the expired ceremony.
    await new Promise((r) => setTimeout(r, 100));
    expect(await status(server!)).toMatchObject({ authenticated: 0 });
    const late = await cs[1]!.offer(c.id);
    await cs[1]!.approve(late);
    await cs[1]!.waitFor(isError('offer-expired'));
  }, 20_000);

  it('cancel by the admin ends the ceremony for everyone', async () => {
    const { cs } = await world();
    const c = await request(server!);
    const o = await cs[0]!.offer(c.id);
    const r = await adminApi<Snap>(server!, 'POST', `/api/ceremonies/${c.id}/cancel`);
    expect(r.body.state).toBe('cancelled');
    for (const x of cs) await x.waitFor(isUpdate('cancelled', c.id));
    await cs[0]!.approve(o);
    await cs[0]!.waitFor(isError('offer-expired'));
    expect((await adminApi(server!, 'POST', `/api/ceremonies/${c.id}/cancel`)).status).toBe(409);
  });

  it('only one active ceremony per target', async () => {
    await world();
    await request(server!);
    const second = await adminApi(server!, 'POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'x',
      requester: 'y',
    });
    expect(second.status).toBe(409);
  });

  it('a disconnected custodian gets the same offer on reconnect and can approve', async () => {
    const { cs } = await world();
    const c = await request(server!);
    const first = await cs[0]!.offer(c.id);
    cs[0]!.close();
    await cs[0]!.waitClosed();
    const again = new ScriptedCustodian(server!, cards[0]!);
    again.custodianId = cs[0]!.custodianId;
    again.credential = cs[0]!.credential;
    clients.push(again);
    await again.connect();
    await again.waitFor((m) => m.type === 'welcome');
    await again.waitFor(isUpdate('open', c.id));
    const resumed = await again.offer(c.id);
    expect(resumed.offerId).toBe(first.offerId);
    expect(resumed.challenge).toBe(first.challenge);
    await again.approve(resumed);
    expect((await again.waitFor(isResult)).outcome).toBe('accepted');
  });

  it('a newer session supersedes the older one (4003)', async () => {
    const { cs } = await world();
    const dup = new ScriptedCustodian(server!, cards[0]!);
    dup.custodianId = cs[0]!.custodianId;
    dup.credential = cs[0]!.credential;
    clients.push(dup);
    await dup.connect();
    await dup.waitFor((m) => m.type === 'welcome');
    expect((await cs[0]!.waitClosed()).code).toBe(4003);
  });

  it('a target reset re-opens the ceremony with a new challenge; approvals are asked again, counted once', async () => {
    const { cs } = await world();
    const c = await request(server!);
    const o1 = await cs[0]!.offer(c.id);
    await cs[0]!.approve(o1);
    await cs[0]!.waitFor(isResult);
    expect(await status(server!)).toMatchObject({ authenticated: 1 });
    // Reset outside quorum (e.g. an operator's lock): the card forgets the authentication.
    await adminApi(server!, 'POST', '/api/targets/t1/lock');
    const o2 = await cs[0]!.offer(c.id, o1.offerId);
    expect(o2.challenge).not.toBe(o1.challenge);
    const snap = (await adminApi<Snap>(server!, 'GET', `/api/ceremonies/${c.id}`)).body;
    expect(snap).toMatchObject({
      state: 'open',
      epoch: 2,
      progress: { authenticated: 0, approvedBy: [] },
    });
    // The old offer is void; the new one works.
    await cs[0]!.approve(o1);
    await cs[0]!.waitFor((m): m is ErrorMessage => m.type === 'error' && m.offerId === o1.offerId);
    await cs[0]!.approve(o2);
    const r2 = await cs[0]!.waitFor(
      (m): m is ResultMessage => isResult(m) && m.offerId === o2.offerId,
    );
    expect(r2).toMatchObject({
      outcome: 'accepted',
      progress: { authenticated: 1, approvedBy: ['alice'] },
    });
    expect(await status(server!)).toMatchObject({ authenticated: 1 });
    // bob's first offer was replaced too; his new one completes the quorum.
    const b1 = cs[1]!.messages.find((m): m is OfferMessage => m.type === 'offer')!;
    const b2 = await cs[1]!.offer(c.id, b1.offerId);
    expect(b2.challenge).toBe(o2.challenge);
    await cs[1]!.approve(b2);
    await cs[1]!.waitFor(isUpdate('quorum', c.id));
    expect(await status(server!)).toMatchObject({ authenticated: 2 });
  });
});
