/**
 * Issue 7 item 8 (CLI part): a server that keeps sending refused offers is disconnected, and
 * `watch` says so loudly, with whom to tell, and ends instead of reconnecting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SUSPICIOUS_REFUSALS } from '../../../../core/custodian/rejection-guard';
import { fakeServer, makeOffer, targetDevice } from '../../../integration/custodian/harness';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import { enrolledHome, startCli, ttyInput, until } from './watch-harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('7.8 a flooding server is reported by the CLI', () => {
  it('7.8 watch: a refusal flood prints the suspicious-server alarm and ends', async () => {
    const server = await fakeServer();
    cleanups.push(() => server.close());
    const w = await enrolledHome(server.url);
    const ca = generateTestCa();
    const target = targetDevice(404, ca);
    server.setOnHello((ws) => {
      server.send(ws, {
        v: 1,
        type: 'welcome',
        custodianId: 'cust-9',
        serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        heartbeatSeconds: 15,
      });
      for (let i = 0; i < SUSPICIOUS_REFUSALS * 2; i++) server.send(ws, makeOffer(target, w.key));
    });
    const cli = startCli(['watch'], w.home, ttyInput());
    expect(await cli.done).not.toBe(0);
    await until(() => cli.io.err.includes('SUSPICIOUS'), 'the alarm');
    expect(cli.io.err).toMatch(
      /contact your security officer out of band .* the server operator may be the attacker/i,
    );
    expect(server.messages.filter((m) => m.type === 'hello')).toHaveLength(1);
  }, 60_000);
});
