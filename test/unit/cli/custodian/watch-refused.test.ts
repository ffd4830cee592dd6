/**
 * Issue 7 "Also" (CLI part): an offer refused as untrusted or hostile is not silent. `watch`
 * prints what was refused, why, and to contact the security officer out of band because the
 * server operator may be the attacker; a merely expired offer gets no such alarm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatRejection } from '../../../../cli/custodian/format-offer';
import type { OfferRejection } from '../../../../core/custodian/offer-verify';
import { fakeServer, makeOffer, targetDevice } from '../../../integration/custodian/harness';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import { enrolledHome, startCli, ttyInput, until } from './watch-harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const ALARM =
  /contact your security officer out of band .* the server operator may be the attacker/i;

describe('7.also a refused hostile offer is not silent in the CLI', () => {
  it('7.also watch: an offer for an untrusted target prints what, why and whom to tell', async () => {
    const server = await fakeServer();
    cleanups.push(() => server.close());
    const w = await enrolledHome(server.url);
    // A target whose chain ends in a root this custodian does not trust.
    const offer = makeOffer(targetDevice(404, generateTestCa()), w.key);
    server.setOnHello((ws) => {
      server.send(ws, {
        v: 1,
        type: 'welcome',
        custodianId: 'cust-9',
        serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        heartbeatSeconds: 15,
      });
      server.send(ws, offer);
    });
    const cli = startCli(['watch', '--once'], w.home, ttyInput());
    expect(await cli.done).toBe(0);
    await until(() => cli.io.err.includes('REJECTED'), 'the rejection');
    expect(cli.io.err).toContain(offer.offerId);
    expect(cli.io.err).toMatch(/does not trust|not a genuine/);
    expect(cli.io.err).toMatch(ALARM);
  });

  it('7.also every hostile refusal code carries the alarm; expiry and busy do not', () => {
    const offer = makeOffer(targetDevice(202), { keyId: 1, chr: 'UTCUSTOD00001' });
    const hostile: OfferRejection['code'][] = [
      'chain-invalid',
      'untrusted-anchor',
      'device-mismatch',
      'script-refused',
      'replayed',
      'malformed',
      'expiry-too-far',
      'wrong-key',
    ];
    for (const code of hostile)
      expect(formatRejection(offer, { code, message: 'x' }), code).toMatch(ALARM);
    for (const code of ['expired', 'busy', 'quorum-met'] as const)
      expect(formatRejection(offer, { code, message: 'x' }), code).not.toMatch(ALARM);
  });
});
