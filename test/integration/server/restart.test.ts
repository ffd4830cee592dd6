/**
 * Restart survival: custodians, credentials and ceremonies live in SQLite; the target's PKA
 * state does not survive (docs/card-reference.md §6.7), so an open ceremony is re-opened with a new
 * challenge and approvals are asked again without double counting; a ceremony at quorum ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import type { ResultMessage, ServerMessage, UpdateMessage } from '../../../shared/protocol';
import {
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  ScriptedCustodian,
  startTestServer,
  targetCard,
  type TargetHandle,
} from './harness';

let servers: RunningServer[] = [];
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
});

const isResult = (m: ServerMessage): m is ResultMessage => m.type === 'result';
const isUpdate =
  (state: string) =>
  (m: ServerMessage): m is UpdateMessage =>
    m.type === 'update' && m.state === state;

async function reconnect(
  server: RunningServer,
  old: ScriptedCustodian,
): Promise<ScriptedCustodian> {
  const c = new ScriptedCustodian(server, old.cust);
  c.custodianId = old.custodianId;
  c.credential = old.credential;
  clients.push(c);
  await c.connect();
  await c.waitFor((m) => m.type === 'welcome');
  return c;
}

describe('restart', () => {
  it('keeps custodians and re-opens an open ceremony with a new challenge, nothing counted twice', async () => {
    const target: TargetHandle = { card: await targetCard(2, 2), opens: 0, fail: false };
    const dir = dataDir();
    let server = await startTestServer(target, dir);
    servers.push(server);
    const a = await enroll(server, await custodianCard(), 'alice');
    const b = await enroll(server, await custodianCard(), 'bob');
    clients.push(a, b);
    const c = (
      await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
        target: 't1',
        purpose: 'p',
        requester: 'r',
      })
    ).body;
    const o1 = await a.offer(c.id);
    await a.approve(o1);
    await a.waitFor(isResult);

    await server.stop();
    servers = [];
    server = await startTestServer(target, dir);
    servers.push(server);
    const snap = (
      await adminApi<{ state: string; epoch: number; progress: { authenticated: number } }>(
        server,
        'GET',
        `/api/ceremonies/${c.id}`,
      )
    ).body;
    expect(snap).toMatchObject({ state: 'open', epoch: 2, progress: { authenticated: 0 } });

    const a2 = await reconnect(server, a);
    const b2 = await reconnect(server, b);
    const o2 = await a2.offer(c.id);
    expect(o2.challenge).not.toBe(o1.challenge);
    await a2.approve(o2);
    expect((await a2.waitFor(isResult)).progress.authenticated).toBe(1);
    await b2.approve(await b2.offer(c.id));
    await b2.waitFor(isUpdate('quorum'));
    const st = (
      await adminApi<{ pka: { authenticated: number } }>(server, 'GET', '/api/targets/t1')
    ).body;
    expect(st.pka.authenticated).toBe(2);

    // Restart at quorum: the unlock is gone with the card state, so the ceremony is completed.
    await server.stop();
    servers = [];
    server = await startTestServer(target, dir);
    servers.push(server);
    const done = (
      await adminApi<{ state: string; reason: string }>(server, 'GET', `/api/ceremonies/${c.id}`)
    ).body;
    expect(done.state).toBe('completed');
    const audit = (
      await adminApi<{ verified: { entries: number } | null }>(server, 'GET', '/api/audit?limit=5')
    ).body;
    expect(audit.verified?.entries).toBeGreaterThan(10);
  });

  it('an enrollment token cannot be used again after a restart', async () => {
    const target: TargetHandle = { card: await targetCard(2, 1), opens: 0, fail: false };
    const dir = dataDir();
    let server = await startTestServer(target, dir);
    servers.push(server);
    const cust = await custodianCard();
    const inv = (
      await adminApi<{ token: string }>(server, 'POST', '/api/enrollments', {
        target: 't1',
        name: 'alice',
      })
    ).body;
    const a = new ScriptedCustodian(server, cust);
    clients.push(a);
    await a.connect(inv.token);
    await a.waitFor((m) => m.type === 'welcome');
    await server.stop();
    servers = [];
    server = await startTestServer(target, dir);
    servers.push(server);
    const again = new ScriptedCustodian(server, cust);
    clients.push(again);
    await again.connect(inv.token);
    expect((await again.waitClosed()).code).toBe(4001);
    // The credential still works.
    await reconnect(server, a);
  });
});
