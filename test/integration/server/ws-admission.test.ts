/**
 * Fair admission at the custodian endpoint (issue 7 items 4, 5, 10): a valid credential is
 * never refused because others guessed wrong (by id, by address, mixed, after the window);
 * failed guesses are answered late; protocol violations close only their own connection;
 * `X-Forwarded-For` counts only from a trusted proxy; unauthenticated connections are capped
 * per address and in total with close 1013.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../../server/app';
import type { FailureThrottle } from '../../../server/net/admission';
import type { ServerConfig } from '../../../server/config';
import { PROTOCOL_NAME } from '../../../shared/protocol';
import {
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  type CustodianCard,
  type TargetHandle,
} from './harness';

let server: RunningServer | undefined;
const open: WebSocket[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) ws.terminate();
  await server?.stop();
  server = undefined;
});

let cust: CustodianCard;
beforeAll(async () => {
  cust = await custodianCard();
});

/** Failures are answered late enough to observe, short enough for a test. */
const THROTTLE: FailureThrottle = {
  freeFailures: 2,
  baseDelayMs: 400,
  maxDelayMs: 5000,
  windowMs: 60_000,
};

const now = { t: Date.now() };

async function start(
  overrides: Partial<Pick<ServerConfig, 'trustedProxies' | 'connections'>> = {
    trustedProxies: ['127.0.0.1'],
  },
) {
  now.t = Date.now();
  const target: TargetHandle = { card: await targetCard(2, 1), opens: 0, fail: false };
  server = await startTestServer(target, dataDir(), overrides, {
    throttle: THROTTLE,
    clock: () => new Date(now.t),
  });
  const alice = await enroll(server, cust, 'alice');
  const id = alice.custodianId!;
  const credential = alice.credential!;
  alice.close();
  await alice.waitClosed();
  return { id, credential };
}

type Conn = {
  ws: WebSocket;
  frames: Array<{ type: string; code?: string }>;
  closed: Promise<number>;
  first: Promise<{ type: string; code?: string } | number>;
};

/** Opens a connection, claiming to come from `from` via X-Forwarded-For when given. */
async function connect(from?: string): Promise<Conn> {
  const ws = new WebSocket(server!.wsUrl, PROTOCOL_NAME, {
    headers: from === undefined ? {} : { 'x-forwarded-for': from },
  });
  open.push(ws);
  const frames: Conn['frames'] = [];
  let gotFirst!: (v: { type: string; code?: string } | number) => void;
  const first = new Promise<{ type: string; code?: string } | number>((r) => (gotFirst = r));
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as { type: string; code?: string };
    frames.push(f);
    gotFirst(f);
  });
  const closed = new Promise<number>((r) =>
    ws.on('close', (code) => {
      gotFirst(code);
      r(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed, first };
}

function hello(custodianId: string, credential: string): string {
  return JSON.stringify({
    v: 1,
    type: 'hello',
    client: { name: 'test', version: '1' },
    auth: { kind: 'session', custodianId, credential },
  });
}

const WRONG = 'W'.repeat(43);

/** Sends a wrong guess and does not wait for its (delayed) answer. */
async function guess(from: string | undefined, id: string): Promise<Conn> {
  const c = await connect(from);
  c.ws.send(hello(id, WRONG));
  return c;
}

/** The holder's hello must be welcomed, not refused. */
async function holder(from: string | undefined, id: string, credential: string) {
  const c = await connect(from);
  c.ws.send(hello(id, credential));
  const f = await c.first;
  expect(f).toMatchObject({ type: 'welcome' });
  return c;
}

/** Delays the server chose for its refusals, oldest first. */
function refusalDelays(): number[] {
  return server!.store.audit
    .tail(1000)
    .filter((e) => e.event === 'auth-refused')
    .map((e) => (e.data as { delayMs: number }).delayMs);
}

async function settleGuesses(n: number) {
  // The refusals are audited when decided (before the delayed answer).
  const deadline = Date.now() + 10_000;
  while (refusalDelays().length < n) {
    if (Date.now() > deadline) throw new Error(`only ${refusalDelays().length} refusals`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('fair lockouts (issue 7 item 4)', () => {
  it('7.4 wrong guesses for her id from many addresses never refuse the holder (by id)', async () => {
    const { id, credential } = await start();
    const guesses = [];
    for (let i = 0; i < 12; i++) guesses.push(await guess(`10.0.0.${i + 1}`, id));
    await settleGuesses(12);
    // Throttled per id although every guess came from another address.
    expect(Math.max(...refusalDelays())).toBeGreaterThan(0);
    await holder('10.0.9.9', id, credential);
    // Her welcome did not wait for the delayed refusals.
    expect(guesses.some((g) => g.frames.length === 0)).toBe(true);
    for (const g of guesses) expect(await g.closed).toBe(4001);
  });

  it('7.4 wrong guesses from her address never refuse the holder there (by address)', async () => {
    const { id, credential } = await start();
    for (let i = 0; i < 12; i++) await guess('10.1.1.1', `cus-other${i}`);
    await settleGuesses(12);
    expect(Math.max(...refusalDelays())).toBeGreaterThan(0);
    await holder('10.1.1.1', id, credential);
  });

  it('7.4 mixed guesses (her id, her address, tokens, no proxy) never refuse the holder', async () => {
    const { id, credential } = await start({});
    for (let i = 0; i < 6; i++) await guess(undefined, id);
    for (let i = 0; i < 6; i++) await guess(undefined, `cus-x${i}`);
    for (let i = 0; i < 4; i++) {
      const c = await connect();
      c.ws.send(
        JSON.stringify({
          v: 1,
          type: 'hello',
          client: { name: 'test', version: '1' },
          auth: { kind: 'enroll', token: 'T'.repeat(43), pka: '00', keyId: 1 },
        }),
      );
    }
    await settleGuesses(16);
    await holder(undefined, id, credential);
  });

  it('7.4 failures older than the window no longer delay anyone', async () => {
    const { id } = await start();
    for (let i = 0; i < 5; i++) await guess('10.4.4.4', id);
    await settleGuesses(5);
    expect(refusalDelays().slice(-1)[0]).toBeGreaterThan(0);
    now.t += THROTTLE.windowMs + 1000;
    const late = await guess('10.4.4.4', id);
    await settleGuesses(6);
    expect(refusalDelays().slice(-1)[0]).toBe(0);
    expect(await late.closed).toBe(4001);
  });
});

describe('violations and proxies (issue 7 item 5)', () => {
  it('7.5 garbage frames from one address close only those connections, never the address', async () => {
    const { id, credential } = await start();
    for (let i = 0; i < 15; i++) {
      const c = await connect('10.2.2.2');
      c.ws.send(i % 2 ? 'garbage' : '{"v":1,"type":"pong","nonce":"a","x":1}');
      expect(await c.closed).toBe(4002);
      expect(c.frames[0]).toMatchObject({ type: 'error', code: 'invalid-message' });
    }
    // Not authentication failures: nothing audited as such, nothing delayed, nobody refused.
    expect(refusalDelays()).toEqual([]);
    await holder('10.2.2.2', id, credential);
    const other = await guess('10.2.2.2', 'cus-nobody');
    await settleGuesses(1);
    expect(refusalDelays()).toEqual([0]);
    expect(await other.closed).toBe(4001);
  });

  it('7.5 X-Forwarded-For from an untrusted peer is ignored', async () => {
    await start({ connections: { maxUnauthenticatedPerAddress: 2, maxUnauthenticated: 100 } });
    const g = await guess('10.5.5.9', 'cus-a');
    await settleGuesses(1);
    const entry = server!.store.audit
      .tail(100)
      .filter((e) => e.event === 'auth-refused')
      .at(-1)!;
    expect((entry.data as { ip: string }).ip).toBe('127.0.0.1');
    expect(await g.closed).toBe(4001);
    await connect('10.5.5.1');
    await connect('10.5.5.2');
    // Every spoofed address is still 127.0.0.1: the third is over the per-address cap.
    const third = await connect('10.5.5.3');
    expect(await third.first).toMatchObject({ type: 'error', code: 'rate-limited' });
    expect(await third.closed).toBe(1013);
  });

  it('7.5 X-Forwarded-For from the trusted proxy keys the per-address limits', async () => {
    const { id } = await start({
      trustedProxies: ['127.0.0.1'],
      connections: { maxUnauthenticatedPerAddress: 2, maxUnauthenticated: 100 },
    });
    await connect('10.6.6.1');
    await connect('10.6.6.1');
    expect(await (await connect('10.6.6.1')).closed).toBe(1013);
    // Another client behind the same proxy is not affected.
    const other = await guess('192.0.2.1, 10.6.6.2', id);
    await settleGuesses(1);
    const entry = server!.store.audit
      .tail(100)
      .filter((e) => e.event === 'auth-refused')
      .at(-1)!;
    expect((entry.data as { ip: string }).ip).toBe('10.6.6.2');
    expect(await other.closed).toBe(4001);
  });
});

describe('bounded unauthenticated connections (issue 7 item 10)', () => {
  it('7.10 unauthenticated connections are capped per address and in total; close 1013', async () => {
    const { id, credential } = await start({
      trustedProxies: ['127.0.0.1'],
      connections: { maxUnauthenticatedPerAddress: 3, maxUnauthenticated: 5 },
    });
    const a = [await connect('10.7.0.1'), await connect('10.7.0.1'), await connect('10.7.0.1')];
    const overA = await connect('10.7.0.1');
    expect(await overA.first).toMatchObject({ type: 'error', code: 'rate-limited' });
    expect(await overA.closed).toBe(1013);
    await connect('10.7.0.2');
    // The holder authenticates (her slot is given back at welcome), the total is full again.
    const h = await holder('10.7.0.2', id, credential);
    expect(h.frames[0]).toMatchObject({ type: 'welcome' });
    await connect('10.7.0.3');
    const overTotal = await connect('10.7.0.4');
    expect(await overTotal.closed).toBe(1013);
    // Closing frees the slots.
    for (const c of a) {
      c.ws.close();
      await c.closed;
    }
    const again = await connect('10.7.0.4');
    again.ws.send('garbage');
    expect(await again.closed).toBe(4002);
  });
});
