/**
 * Enrollment under real card latency (issue 7 item 1, issue 11 item 5): a token is consumed
 * before any APDU reaches the target, enrollment into one target is serialized, the card and
 * the store agree after every failure, and a disagreement blocks ceremonies until an operator
 * reconciles the target.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CardTransportError, type CardTransport } from '../../../core/card/transport';
import { ApduChannel } from '../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { PKA_MAX_KEYS } from '../../../emulator/card/cmd-init';
import { toHex } from '../../../shared/codec/bytes';
import type { RunningServer } from '../../../server/app';
import { main } from '../../../server/cli/main';
import {
  adminApi,
  custodianCard,
  dataDir,
  ScriptedCustodian,
  startTestServer,
  targetCard,
  type CustodianCard,
  type TargetHandle,
} from './harness';

let server: RunningServer | undefined;
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

let alice: CustodianCard;
let bob: CustodianCard;
beforeAll(async () => {
  alice = await custodianCard();
  bob = await custodianCard();
});

/** A transport that delays every APDU like a real reader does (a few ms each). */
function slowTransport(t: CardTransport, ctl: Ctl) {
  return {
    ...t,
    get atr() {
      return t.atr;
    },
    async transmit(apdu: Uint8Array) {
      await new Promise((r) => setTimeout(r, ctl.delayMs));
      if (ctl.noEnumerate && apdu[0] === 0x80 && apdu[1] === 0x54 && apdu[2] === 0x02)
        return Uint8Array.of(0x6a, 0x86);
      // `80 54 00 00 Lc …` with data: the registration itself.
      const registration = apdu[1] === 0x54 && apdu[2] === 0 && apdu.length > 5;
      const lose = registration ? ctl.loseRegistration : undefined;
      if (lose) ctl.loseRegistration = undefined;
      if (lose === 'before') throw new CardTransportError('card-removed', 'reader unplugged');
      const r = await t.transmit(apdu);
      if (lose === 'after') throw new CardTransportError('card-removed', 'answer lost');
      return r;
    },
  } satisfies CardTransport;
}

type Ctl = {
  delayMs: number;
  loseRegistration?: 'before' | 'after' | undefined;
  /** Answer `80 54 02 i` like a genuine SmartCard-HSM, which cannot list its PKA keys. */
  noEnumerate?: boolean;
  opens: number;
};

async function start(m: number, n: number, ctl: Ctl) {
  const target: TargetHandle = { card: await targetCard(m, n), opens: 0, fail: false };
  server = await startTestServer(
    target,
    dataDir(),
    {},
    {
      openerFor: () => async () => {
        ctl.opens++;
        return slowTransport(createInProcessTransport(target.card), ctl);
      },
    },
  );
  return target;
}

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const conn = ['--server', server!.url, '--admin-token', server!.adminToken];
  const code = await main(
    [...args, ...conn],
    {},
    {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
    },
  );
  return { code, out, err };
}

async function token(name: string): Promise<string> {
  const r = await adminApi<{ token: string }>(server!, 'POST', '/api/enrollments', {
    target: 't1',
    name,
  });
  expect(r.status).toBe(201);
  return r.body.token;
}

/** The card's own PKA status, read directly (not through the server). */
async function cardRegistered(target: TargetHandle): Promise<number> {
  const t = createInProcessTransport(target.card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  const s = (await hsm.pkaStatus())!;
  await t.close('leave');
  return s.m - s.missing;
}

async function settle(c: ScriptedCustodian) {
  await c.waitFor((x) => x.type === 'welcome' || x.type === 'error', 15_000);
  return c.messages.find((x) => x.type === 'welcome' || x.type === 'error')!;
}

describe('atomic enrollment', () => {
  it('7.1 one enrollment token registers at most one key, even concurrently', async () => {
    const ctl: Ctl = { delayMs: 3, opens: 0 };
    const target = await start(3, 2, ctl);
    for (const extra of [0, 1]) {
      // Two connections, one token, two different .pka files; then three with a mix.
      const tok = await token(`alice${extra}`);
      const cards = extra === 0 ? [alice, bob] : [bob, alice, bob];
      const cs = cards.map((card) => new ScriptedCustodian(server!, card));
      clients.push(...cs);
      await Promise.all(cs.map((c) => c.connect(tok)));
      const outcomes = await Promise.all(cs.map(settle));
      expect(outcomes.filter((o) => o.type === 'welcome')).toHaveLength(1);
      for (const o of outcomes.filter((x) => x.type === 'error'))
        expect(o.type === 'error' && o.message).toMatch(/already used|already registered/);
    }
    const stored = server!.store.custodians.forTarget('t1');
    expect(stored).toHaveLength(2);
    expect(await cardRegistered(target)).toBe(stored.length);
    const s = await adminApi<{ consistency: unknown }>(server!, 'GET', '/api/targets/t1');
    expect(s.body.consistency).toBeNull();
  });

  it('7.1 two tokens for one name, or one key under two names, register one key concurrently', async () => {
    const ctl: Ctl = { delayMs: 3, opens: 0 };
    const target = await start(4, 2, ctl);
    const race = async (pairs: Array<[string, CustodianCard]>) => {
      const cs = pairs.map(([, card]) => new ScriptedCustodian(server!, card));
      clients.push(...cs);
      await Promise.all(cs.map((c, i) => c.connect(pairs[i]![0])));
      const outcomes = await Promise.all(cs.map(settle));
      expect(outcomes.filter((o) => o.type === 'welcome')).toHaveLength(1);
      for (const o of outcomes.filter((x) => x.type === 'error'))
        expect(o.type === 'error' && o.message).toMatch(/already (enrolled|registered)/);
    };
    // One name, two tokens, two keys.
    await race([
      [await token('carol'), alice],
      [await token('carol'), bob],
    ]);
    // One key (the one not yet registered), two names.
    const stored = server!.store.custodians.forTarget('t1');
    const free = stored[0]!.keyChr === alice.chr ? bob : alice;
    await race([
      [await token('dave'), free],
      [await token('erin'), free],
    ]);
    expect(server!.store.custodians.forTarget('t1')).toHaveLength(2);
    expect(await cardRegistered(target)).toBe(2);
  });

  it('7.1 a card failure before the registration reaches the card leaves the token usable', async () => {
    const ctl: Ctl = { delayMs: 1, loseRegistration: 'before', opens: 0 };
    const target = await start(3, 2, ctl);
    const tok = await token('alice');
    const c = new ScriptedCustodian(server!, alice);
    clients.push(c);
    await c.connect(tok);
    expect((await settle(c)).type).toBe('error');
    expect(await cardRegistered(target)).toBe(0);
    const again = new ScriptedCustodian(server!, alice);
    clients.push(again);
    await again.connect(tok);
    expect((await settle(again)).type).toBe('welcome');
    expect(await cardRegistered(target)).toBe(1);
    expect(server!.store.custodians.forTarget('t1')).toHaveLength(1);
  });

  it('7.1 an answer lost after the card registered the key is reconciled from the card', async () => {
    const ctl: Ctl = { delayMs: 1, loseRegistration: 'after', opens: 0 };
    const target = await start(3, 2, ctl);
    const tok = await token('alice');
    const c = new ScriptedCustodian(server!, alice);
    clients.push(c);
    await c.connect(tok);
    // The card lists its keys (80 54 02 i): it holds exactly this one, so it is recorded.
    expect((await settle(c)).type).toBe('welcome');
    expect(server!.store.custodians.forTarget('t1').map((x) => x.keyChr)).toEqual([alice.chr]);
    expect(await cardRegistered(target)).toBe(1);
  });

  it('7.1 a lost answer on a card that cannot list its keys blocks the target, never a second key', async () => {
    const ctl: Ctl = { delayMs: 1, loseRegistration: 'after', opens: 0, noEnumerate: true };
    const target = await start(3, 2, ctl);
    const tok = await token('alice');
    const c = new ScriptedCustodian(server!, alice);
    clients.push(c);
    await c.connect(tok);
    const o = await settle(c);
    expect(o.type === 'error' && o.message).toMatch(/inconsistent/);
    expect(await cardRegistered(target)).toBe(1);
    const st = await adminApi<{ consistency: Record<string, unknown> }>(
      server!,
      'GET',
      '/api/targets/t1',
    );
    expect(st.body.consistency).toMatchObject({
      state: 'inconsistent',
      registeredOnCard: 1,
      knownToServer: 0,
    });
    // The token stays used up, and no other enrollment reaches the card.
    for (const tk of [tok, await token('bob')]) {
      const again = new ScriptedCustodian(server!, bob);
      clients.push(again);
      await again.connect(tk);
      expect((await settle(again)).type).toBe('error');
    }
    expect(await cardRegistered(target)).toBe(1);
  });

  it('7.1 a key on the card the store does not know is reported and blocks ceremonies until reconciled', async () => {
    const ctl: Ctl = { delayMs: 0, opens: 0 };
    const target = await start(2, 2, ctl);
    // Someone registers a key at the card behind the server's back (or a crash lost the row).
    const t = createInProcessTransport(target.card);
    const hsm = new SmartCardHsm(new ApduChannel(t));
    await hsm.select();
    const f = (await import('../../../shared/pka/pka-file')).parsePkaFile(bob.pka);
    if (!f.ok) throw new Error('bad fixture');
    await hsm.registerPublicKey(f.value);
    await t.close('leave');
    const enrol = await adminApi(server!, 'POST', '/api/targets/t1/custodians', {
      name: 'alice',
      pka: toHex(alice.pka),
    });
    expect(enrol.status).toBe(409);
    expect(JSON.stringify(enrol.body)).toMatch(/inconsistent|reconcile/);
    expect(await cardRegistered(target)).toBe(1);
    const st = await adminApi<{
      consistency: { registeredOnCard: number; knownToServer: number; unknownKeys?: string[] };
    }>(server!, 'GET', '/api/targets/t1');
    expect(st.body.consistency).toMatchObject({ registeredOnCard: 1, knownToServer: 0 });
    expect(st.body.consistency.unknownKeys).toEqual([bob.chr]);
    // The operator's CLI says so loudly, names the key and the command that resolves it.
    const status = await cli('target', 'status', '--target', 't1');
    expect(status.out).toMatch(/INCONSISTENT/);
    expect(status.out).toContain(`UNKNOWN KEY(S) ON THE CARD: ${bob.chr}`);
    expect(status.out).toContain('target reconcile --target t1');
    const cer = await adminApi(server!, 'POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'test',
      requester: 'ci',
    });
    expect(cer.status).toBe(409);
    expect(JSON.stringify(cer.body)).toMatch(/reconcile/);
    // Without --acknowledge nothing changes; with it, the operator's decision is audited.
    const plain = await cli('target', 'reconcile', '--target', 't1');
    expect(plain.code).not.toBe(0);
    expect(plain.err).toMatch(/inconsistent/);
    const ack = await cli('target', 'reconcile', '--target', 't1', '--acknowledge');
    expect(ack.code).toBe(0);
    expect((await cli('target', 'status', '--target', 't1')).out).toMatch(/acknowledged/);
    const audit = await adminApi<{ entries: Array<{ event: string }> }>(
      server!,
      'GET',
      '/api/audit',
    );
    const events = audit.body.entries.map((e) => e.event);
    expect(events).toContain('target-inconsistent');
    expect(events).toContain('target-inconsistency-acknowledged');
    const enrol2 = await adminApi(server!, 'POST', '/api/targets/t1/custodians', {
      name: 'alice',
      pka: toHex(alice.pka),
    });
    expect(enrol2.status).toBe(201);
  });

  it('11.5 an attempt at a full target never resets the card under an open ceremony', async () => {
    const ctl: Ctl = { delayMs: 0, opens: 0 };
    await start(2, 2, ctl);
    for (const [name, c] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const r = await adminApi(server!, 'POST', '/api/targets/t1/custodians', {
        name,
        pka: toHex(c.pka),
      });
      expect(r.status).toBe(201);
    }
    const cer = await adminApi<{ id: string }>(server!, 'POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'test',
      requester: 'ci',
    });
    expect(cer.status).toBe(201);
    const before = server!.store.ceremonies.get(cer.body.id)!;
    const extra = await adminApi(server!, 'POST', '/api/targets/t1/custodians', {
      name: 'carol',
      pka: toHex((await custodianCard()).pka),
    });
    expect(extra.status).toBe(409);
    // Through the target's queue once more, so anything the attempt triggered has run.
    await adminApi(server!, 'GET', '/api/targets/t1');
    const after = server!.store.ceremonies.get(cer.body.id)!;
    expect([after.state, after.epoch, after.challenge]).toEqual([
      before.state,
      before.epoch,
      before.challenge,
    ]);
  });

  it(`11.5 one card session enrolls custodians up to the card's maximum (m = ${PKA_MAX_KEYS})`, async () => {
    const ctl: Ctl = { delayMs: 0, opens: 0 };
    const target = await start(PKA_MAX_KEYS, 2, ctl);
    for (let i = 0; i < PKA_MAX_KEYS; i++) {
      const cust = i === 0 ? alice : i === 1 ? bob : await custodianCard();
      const r = await adminApi(server!, 'POST', '/api/targets/t1/custodians', {
        name: `c${i}`,
        pka: toHex(cust.pka),
      });
      if (r.status !== 201) throw new Error(`custodian ${i + 1}: ${JSON.stringify(r.body)}`);
    }
    // One card session for all of them (the bug needs a shared session to show).
    expect(ctl.opens).toBe(1);
    expect(await cardRegistered(target)).toBe(PKA_MAX_KEYS);
    const full = await adminApi(server!, 'POST', '/api/targets/t1/custodians', {
      name: 'one-too-many',
      pka: toHex((await custodianCard()).pka),
    });
    expect(full.status).toBe(409);
  }, 240_000);
});
