/**
 * Issue 11 items 1 and 2: store failures (disk full, database locked) injected at the exact
 * step. No callback may crash the server; the one operation fails, the operator is told (one
 * log line, `/api/health` degraded until writes work again), and the card's count and the
 * record never diverge. Checked afterwards: the target card's own status, the store, the
 * audit chain.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import type { ErrorMessage, OfferMessage, ServerMessage } from '../../../shared/protocol';
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
import { injectStoreFaults } from './store-faults';

type Snap = {
  state: string;
  epoch: number;
  progress: { authenticated: number; approvedBy: string[] };
};
type Health = { ok: boolean; status: string; reason?: string };

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

async function world() {
  const logs: string[] = [];
  const dir = dataDir();
  const target = { card: await targetCard(3, 2), opens: 0, fail: false };
  const s = await startTestServer(target, dir, {}, { log: (l) => logs.push(l) });
  server = s;
  const cs: ScriptedCustodian[] = [];
  for (const [i, name] of ['alice', 'bob', 'carol'].entries()) {
    const c = await enroll(s, cards[i]!, name);
    clients.push(c);
    cs.push(c);
  }
  return { s, cs, logs, dir, target };
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function health(s: RunningServer) {
  const r = await fetch(`${s.url}/api/health`);
  return { status: r.status, body: (await r.json()) as Health };
}
const snap = async (s: RunningServer, id: string) =>
  (await adminApi<Snap>(s, 'GET', `/api/ceremonies/${id}`)).body;
const cardCount = async (s: RunningServer) =>
  (await adminApi<{ pka: { authenticated: number } }>(s, 'GET', '/api/targets/t1')).body.pka
    .authenticated;
async function request(s: RunningServer, expiresInSeconds = 600) {
  const r = await adminApi<{ id: string }>(s, 'POST', '/api/ceremonies', {
    target: 't1',
    purpose: 'store fault',
    requester: 'ops',
    expiresInSeconds,
  });
  expect(r.status).toBe(201);
  return r.body.id;
}
const isError =
  (code: string) =>
  (m: ServerMessage): m is ErrorMessage =>
    m.type === 'error' && m.code === code;
const auditOf = (s: RunningServer) =>
  s.store.audit
    .tail(1000)
    .map((e) => ({ event: e.event, data: e.data as Record<string, unknown> }));

describe('11.1 a store failure in a callback never crashes the server', () => {
  it('11.1 socket close handler: contained, logged once, health degraded, recovers', async () => {
    const { s, cs, logs } = await world();
    expect((await health(s)).status).toBe(200);
    const faults = injectStoreFaults(s.store.db);
    faults.fail(/INSERT INTO audit/, 'SQLITE_FULL');
    cs[0]!.close();
    await until('store failure logged', () => logs.some((l) => l.includes('STORE FAILURE')));
    expect(logs.filter((l) => l.includes('STORE FAILURE'))).toHaveLength(1);
    expect(logs.find((l) => l.includes('STORE FAILURE'))).toMatch(
      /custodian-disconnected.*SQLITE_FULL/,
    );
    const h = await health(s);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ ok: false, status: 'degraded' });
    expect(h.body.reason).toMatch(/custodian-disconnected.*SQLITE_FULL/);
    // Still serving: reads answer; a write fails as that one operation (503, not a crash).
    expect((await adminApi(s, 'GET', '/api/targets/t1')).status).toBe(200);
    const refused = await adminApi<{ code: string }>(s, 'POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'p',
      requester: 'r',
    });
    expect(refused).toMatchObject({ status: 503, body: { code: 'store' } });
    // Writes work again: the next write clears the alarm.
    faults.heal();
    await request(s);
    expect((await health(s)).body).toMatchObject({ ok: true, status: 'ok' });
    expect(logs.some((l) => l.includes('store writes work again'))).toBe(true);
    expect(s.store.audit.verify().ok).toBe(true);
  }, 60_000);

  it('11.1 expiry timer: contained; decisions after the deadline refused; expiry stored later', async () => {
    const { s, cs, logs } = await world();
    const id = await request(s, 10);
    const offer = await cs[0]!.offer(id);
    const faults = injectStoreFaults(s.store.db);
    faults.fail(/UPDATE ceremonies SET state/, 'SQLITE_BUSY');
    // The timer's first read fails too (an I/O error): retried, never thrown out of the timer.
    faults.fail(/SELECT \* FROM ceremonies WHERE id/, 'SQLITE_IOERR', 1);
    await until(
      'expiry failure logged',
      () => logs.some((l) => l.includes('STORE FAILURE') && l.includes('expired')),
      30_000,
    );
    expect((await health(s)).body.status).toBe('degraded');
    expect(logs.some((l) => /STORE FAILURE.*at its expiry.*SQLITE_IOERR/.test(l))).toBe(true);
    expect((await snap(s, id)).state).toBe('open');
    // The deadline passed: the approval is refused before anything reaches the target.
    await cs[0]!.approve(offer);
    await cs[0]!.waitFor(isError('offer-expired'));
    expect(await cardCount(s)).toBe(0);
    faults.heal();
    await until('expired stored', async () => (await snap(s, id)).state === 'expired', 10_000);
    expect(auditOf(s).filter((e) => e.event === 'ceremony-expired')).toHaveLength(1);
    expect((await health(s)).body.status).toBe('ok');
    expect(s.store.audit.verify().ok).toBe(true);
  }, 60_000);

  it('11.1 re-opening after a target reset (a detached promise): contained, then recorded', async () => {
    const { s, cs, logs } = await world();
    const id = await request(s);
    await cs[0]!.offer(id);
    const faults = injectStoreFaults(s.store.db);
    faults.fail(/UPDATE ceremonies SET/, 'SQLITE_FULL');
    expect((await adminApi(s, 'POST', '/api/targets/t1/lock')).status).toBe(200);
    await until('re-open failure logged', () =>
      logs.some((l) => l.includes('STORE FAILURE') && l.includes(id)),
    );
    expect((await health(s)).body.status).toBe('degraded');
    expect((await adminApi(s, 'GET', '/api/targets/t1')).status).toBe(200);
    faults.heal();
    await until('failure stored', async () => (await snap(s, id)).state === 'failed', 10_000);
    expect((await health(s)).body.status).toBe('ok');
    expect(s.store.audit.verify().ok).toBe(true);
  }, 60_000);

  it('11.2 a locked database fails fast: no write freezes the event loop for seconds', async () => {
    const { s, cs, logs, dir } = await world();
    const other = new Database(join(dir.dir, 'data', 'custodian.db'));
    other.exec('BEGIN IMMEDIATE');
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    try {
      cs[1]!.close();
      await until('busy failure logged', () => logs.some((l) => l.includes('SQLITE_BUSY')));
    } finally {
      delay.disable();
      other.exec('ROLLBACK');
      other.close();
    }
    // The old 5 s busy_timeout froze the whole server per failed write.
    expect(delay.max / 1e6).toBeLessThan(1000);
    expect((await health(s)).body.status).toBe('degraded');
  }, 60_000);
});

describe('11.2 the card count and the record never diverge', () => {
  it('11.2 approval outcome not recordable after the card accepted: target reset, ceremony re-opened', async () => {
    const { s, cs } = await world();
    const [alice, bob] = [cs[0]!, cs[1]!];
    const id = await request(s);
    const aliceOffer = await alice.offer(id);
    const bobOffer = await bob.offer(id);
    const faults = injectStoreFaults(s.store.db);
    // The write that records the approval (old: the only one; new: the outcome after the card).
    faults.fail(/INSERT OR IGNORE INTO approvals|UPDATE approvals SET outcome/, 'SQLITE_FULL', 1);
    await alice.approve(aliceOffer);
    await alice.waitFor(isError('internal-error'));
    expect(faults.failed).toHaveLength(1);
    // The card forgot the unrecorded approval, and the ceremony is open in a new epoch.
    await until('re-opened', async () => ((await snap(s, id)).epoch === 2 ? true : undefined));
    expect(await cardCount(s)).toBe(0);
    expect((await snap(s, id)).progress).toEqual({ authenticated: 0, approvedBy: [] });
    const rows = s.store.ceremonies.approvals(id);
    expect(rows.map((r) => [r.custodianId, r.epoch, r.outcome])).toEqual([
      [alice.custodianId, 1, 'failed'],
    ]);
    const events = auditOf(s).map((e) => e.event);
    const intent = events.lastIndexOf('approval-intent');
    expect(intent).toBeGreaterThan(-1);
    expect(events.slice(intent)).toEqual([
      'approval-intent',
      'approval-unresolved',
      'ceremony-reopened',
    ]);
    // Quorum needs n approvals recorded in the new epoch, each counted once at the card.
    const bob2 = await bob.offer(id, bobOffer.offerId);
    await bob.approve(bob2);
    await until('bob counted', async () => ((await cardCount(s)) === 1 ? true : undefined));
    expect((await snap(s, id)).state).toBe('open');
    const alice2: OfferMessage = await alice.offer(id, aliceOffer.offerId);
    await alice.approve(alice2);
    await until('quorum', async () => ((await snap(s, id)).state === 'quorum' ? true : undefined));
    const done = await snap(s, id);
    expect(done.progress.authenticated).toBe(2);
    expect([...done.progress.approvedBy].sort()).toEqual(['alice', 'bob']);
    expect(await cardCount(s)).toBe(2);
    expect(s.store.audit.verify().ok).toBe(true);
    expect((await health(s)).body.status).toBe('ok');
  }, 60_000);

  it('11.2 quorum not recordable: the card is reset before any signature, ceremony re-opened', async () => {
    const { s, cs } = await world();
    const [alice, bob] = [cs[0]!, cs[1]!];
    const id = await request(s);
    await alice.approve(await alice.offer(id));
    await until('alice counted', async () => ((await cardCount(s)) === 1 ? true : undefined));
    const bobOffer = await bob.offer(id);
    const faults = injectStoreFaults(s.store.db);
    faults.fail(/UPDATE ceremonies SET state/, 'SQLITE_FULL', 1);
    await bob.approve(bobOffer);
    await until('re-opened', async () => ((await snap(s, id)).epoch === 2 ? true : undefined));
    expect(faults.failed).toHaveLength(1);
    expect(await cardCount(s)).toBe(0);
    expect((await snap(s, id)).state).toBe('open');
    // No unlock window: signing is refused before the card is asked.
    const sign = await adminApi(s, 'POST', '/api/targets/t1/sign', {
      key: '1',
      digests: ['00'.repeat(32)],
    });
    expect(sign.status).toBe(409);
    expect(auditOf(s).some((e) => e.event === 'quorum')).toBe(false);
  }, 60_000);
});

describe('11.3 a state change and its audit entry are one transaction', () => {
  it('11.3 approval and decline: when the audit entry fails, the answer is not recorded either', async () => {
    const { s, cs } = await world();
    const [alice, bob] = [cs[0]!, cs[1]!];
    const id = await request(s);
    const bobOffer = await bob.offer(id);
    const faults = injectStoreFaults(s.store.db);
    faults.fail(/INSERT INTO audit/, 'SQLITE_FULL', 1);
    bob.decline(bobOffer);
    await bob.waitFor(isError('internal-error'));
    expect(s.store.ceremonies.approvals(id)).toEqual([]);
    // The approval's outcome entry fails (the intent's entry before it is stored).
    faults.fail(/INSERT INTO audit/, 'SQLITE_FULL', 1, 1);
    await alice.approve(await alice.offer(id));
    await alice.waitFor(isError('internal-error'));
    await until('re-opened', async () => ((await snap(s, id)).epoch === 2 ? true : undefined));
    expect(await cardCount(s)).toBe(0);
    // Every recorded answer has its audit entry, and no audit entry lacks its answer.
    const audit = auditOf(s);
    expect(s.store.ceremonies.approvals(id).some((a) => a.outcome === 'approved')).toBe(false);
    expect(audit.some((e) => e.event === 'approval' || e.event === 'decline')).toBe(false);
    expect(audit.filter((e) => e.event === 'approval-unresolved')).toHaveLength(1);
    expect(s.store.audit.verify().ok).toBe(true);
  }, 60_000);
});

describe('11.3 key generation: intent before the card step', () => {
  it('11.3 intent not storable: refused before the card; outcome not storable: covered, resolved at restart', async () => {
    const { s, cs, dir, target } = await world();
    const id = await request(s);
    for (const c of [cs[0]!, cs[1]!]) await c.approve(await c.offer(id));
    await until('quorum', async () => ((await snap(s, id)).state === 'quorum' ? true : undefined));
    const labels = async (srv: RunningServer) =>
      (
        await adminApi<{ keys: { label: string }[] }>(srv, 'GET', '/api/targets/t1/keys')
      ).body.keys.map((k) => k.label);
    const faults = injectStoreFaults(s.store.db);
    faults.fail(/INSERT INTO audit/, 'SQLITE_FULL', 1);
    const refused = await adminApi(s, 'POST', '/api/targets/t1/keys', { label: 'k1' });
    expect(refused).toMatchObject({ status: 503, body: { code: 'store' } });
    expect(await labels(s)).not.toContain('k1');
    // The intent is stored, the outcome entry fails: the key exists and the intent covers it.
    faults.fail(/INSERT INTO audit/, 'SQLITE_FULL', 1, 1);
    const made = await adminApi<{ id: number }>(s, 'POST', '/api/targets/t1/keys', { label: 'k2' });
    expect(made.status).toBe(201);
    expect(await labels(s)).toContain('k2');
    expect((await health(s)).body.status).toBe('degraded');
    const intent = auditOf(s).find((e) => e.event === 'keygen-intent' && e.data['label'] === 'k2');
    expect(intent).toBeDefined();
    expect(auditOf(s).some((e) => e.event === 'key-generated')).toBe(false);
    for (const c of clients.splice(0)) c.close();
    await s.stop();
    server = await startTestServer(target, dir);
    const resolved = auditOf(server).filter((e) => e.event === 'keygen-unresolved');
    expect(resolved.map((e) => e.data['intentId'])).toEqual([intent!.data['intentId']]);
    expect(server.store.audit.verify().ok).toBe(true);
  }, 60_000);
});
