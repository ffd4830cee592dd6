/**
 * Issue 11 item 10: a 4001 close (credential refused) is not final. The engine retries with
 * back-off, tells the user each time (`auth-refused` event, a CLI line), and carries on once
 * the server accepts the credential again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { custodianCard, fakeServer, startEngine } from './harness';
import { enrolledHome, startCli, ttyInput, until } from '../../unit/cli/custodian/watch-harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A server that refuses the first `refusals` hellos with 4001, then welcomes. */
async function refusingServer(refusals: number) {
  const server = await fakeServer();
  cleanups.push(() => server.close());
  let hellos = 0;
  server.setOnHello((ws) => {
    hellos += 1;
    if (hellos <= refusals) return void ws.close(4001, 'credential refused');
    server.send(ws, {
      v: 1,
      type: 'welcome',
      custodianId: 'cust-1',
      serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      heartbeatSeconds: 15,
    });
  });
  return server;
}

describe('11.10 a refused credential is retried, not final', () => {
  it('11.10 engine: auth-refused events with growing retry delays, then authenticated', async () => {
    const server = await refusingServer(3);
    const card = await custodianCard();
    const eng = startEngine({
      url: server.url,
      openCard: card.openCard,
      keyId: card.key.keyId,
      keyChr: card.key.chr,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    cleanups.push(
      () => eng.engine.stop(),
      () => eng.audit.close(),
    );
    await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
    const refused = eng.events.filter((e) => e.type === 'auth-refused');
    expect(refused).toHaveLength(3);
    expect(refused.map((e) => e.type === 'auth-refused' && e.attempt)).toEqual([1, 2, 3]);
    expect(refused[0]).toMatchObject({ reason: expect.stringMatching(/credential refused/) });
    expect(eng.events.some((e) => e.type === 'connection' && e.state.kind === 'stopped')).toBe(
      false,
    );
  });

  it('11.10 watch: prints what happened and keeps going', async () => {
    const server = await refusingServer(1);
    const w = await enrolledHome(server.url);
    const cli = startCli(['watch'], w.home, ttyInput());
    await until(() => cli.io.out.includes('connected as cust-1'), 'the reconnect', 30_000);
    expect(cli.io.err).toMatch(/REFUSED your credential .* retrying in .* security officer/);
    process.emit('SIGINT');
    expect(await cli.done).toBe(0);
  });
});
