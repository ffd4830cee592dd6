/**
 * Issue 7 item 3 at the CLI: `watch` approves exactly the offer it printed. A server that swaps
 * the ceremony's offer while the custodian is at the prompt gets nothing signed: the CLI says
 * so and shows the new offer before it can be approved; a swap during PIN entry is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OfferMessage } from '../../../../shared/protocol/index';
import { fakeServer, makeOffer, PIN, targetDevice } from '../../../integration/custodian/harness';
import { enrolledHome, signsSent, startCli, ttyInput, until } from './watch-harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function world() {
  const server = await fakeServer();
  cleanups.push(() => server.close());
  const w = await enrolledHome(server.url);
  return { server, ...w };
}

/** Sends `offer` to the CLI once it says hello. */
function offerOnHello(server: Awaited<ReturnType<typeof fakeServer>>, offer: OfferMessage) {
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
}

/** SIGN commands the custodian's card received. */
function keyUses(cardFile: string): number {
  return signsSent.get(cardFile) ?? 0;
}

describe('7.3 custodian watch approves only the offer it printed', () => {
  it('7.3 a swap while the custodian is at the prompt: refused, told why, new offer shown again', async () => {
    const w = await world();
    const first = makeOffer(targetDevice(202), w.key);
    const swapped = { ...makeOffer(targetDevice(203), w.key), ceremonyId: first.ceremonyId };
    offerOnHello(w.server, first);
    const input = ttyInput();
    const cli = startCli(['watch', '--once'], w.home, input);
    await until(() => cli.io.err.includes('Approve this ceremony?'), 'the first prompt');
    expect(cli.io.out).toContain(first.target.deviceId);
    w.server.broadcast(swapped);
    await until(() => cli.io.out.includes('replaced by a newer offer'), 'the swap');
    input.write('a\n');
    await until(() => cli.io.err.includes('NOT APPROVED'), 'the refusal');
    expect(cli.io.err).toMatch(/replaced offer .* nothing was signed/);
    // Shown again: the new target's device id is printed after the refusal, then asked.
    const after = cli.io.out.slice(cli.io.out.lastIndexOf('Ceremony '));
    await until(
      () => cli.io.out.slice(cli.io.out.lastIndexOf('Ceremony ')).includes(swapped.offerId),
      'the replacement shown',
    );
    expect(after.length).toBeGreaterThan(0);
    expect(cli.io.out.slice(cli.io.out.lastIndexOf('Ceremony '))).toContain(
      swapped.target.deviceId,
    );
    input.write('d\n');
    expect(await cli.done).toBe(0);
    // Nothing was signed, no PIN was asked, the only decision is the decline of the new offer.
    expect(cli.io.err).not.toMatch(/PIN/);
    expect(keyUses(w.cardFile)).toBe(0);
    await w.server.next((m) => m.type === 'decision');
    const decisions = w.server.messages.filter((m) => m.type === 'decision');
    expect(decisions.map((d) => d.type === 'decision' && [d.offerId, d.decision.kind])).toEqual([
      [swapped.offerId, 'decline'],
    ]);
  });

  it('7.3 a swap while the PIN is typed: the card signs only the offer printed', async () => {
    const w = await world();
    const first = makeOffer(targetDevice(202), w.key);
    const swapped = { ...makeOffer(targetDevice(203), w.key), ceremonyId: first.ceremonyId };
    offerOnHello(w.server, first);
    const input = ttyInput();
    const cli = startCli(['watch', '--once'], w.home, input);
    await until(() => cli.io.err.includes('Approve this ceremony?'), 'the prompt');
    input.write('a\n');
    await until(() => /PIN \(\d tries left\): $/.test(cli.io.err), 'the PIN prompt');
    w.server.broadcast(swapped);
    await until(() => cli.io.err.includes(`REJECTED offer ${swapped.offerId}`), 'the refusal');
    input.write(`${PIN}\n`);
    expect(await cli.done).toBe(0);
    expect(cli.io.out + cli.io.err).toMatch(/approved: 1 command\(s\) ran on your card/);
    expect(keyUses(w.cardFile)).toBe(1);
    await w.server.next((m) => m.type === 'decision');
    const decisions = w.server.messages.filter((m) => m.type === 'decision');
    expect(decisions.map((d) => d.type === 'decision' && [d.offerId, d.decision.kind])).toEqual([
      [first.offerId, 'approve'],
    ]);
  });
});
