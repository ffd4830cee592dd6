/**
 * Every protocol violation gets its documented error frame and close code (issue 11 item 6):
 * hostile characters (C0, C1, bidi and other format characters, lone surrogates, private use)
 * in any string value or key of any client frame must not make the server's error frame
 * unencodable; invalid UTF-8 closes with 1007 (docs/protocol.md §10).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../../server/app';
import { PROTOCOL_NAME, parseServerMessage } from '../../../shared/protocol';
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
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

let cust: CustodianCard;
beforeAll(async () => {
  cust = await custodianCard();
});

async function start() {
  const target: TargetHandle = { card: await targetCard(2, 1), opens: 0, fail: false };
  server = await startTestServer(target, dataDir());
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const FIXTURES = JSON.parse(
  readFileSync(new URL('../../fixtures/protocol/valid-frames.json', import.meta.url), 'utf8'),
) as Record<string, { direction: string; frame: Json }>;
const CLIENT_FRAMES = Object.values(FIXTURES)
  .filter((f) => f.direction === 'client')
  .map((f) => f.frame);

/** One representative of each class the display-text rule forbids. */
const HOSTILE = [
  '\u0000',
  '\u0007',
  '\u001b[2J',
  '\u007f',
  '\u0085',
  '\u009b31m',
  '\u00ad',
  '\u200b',
  '\u202e',
  '\u2066',
  '\u2028',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\ue000',
];

/** Paths to every string value and every key of a frame. */
function targets(
  v: Json,
  path: Array<string | number> = [],
): Array<{ path: Array<string | number>; key: boolean }> {
  if (typeof v === 'string') return [{ path, key: false }];
  if (Array.isArray(v)) return v.flatMap((x, i) => targets(x, [...path, i]));
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => [
      { path: [...path, k], key: true },
      ...targets(x, [...path, k]),
    ]);
  return [];
}

function mutate(
  frame: Json,
  t: { path: Array<string | number>; key: boolean },
  bad: string,
  at: number,
): Json {
  const copy = structuredClone(frame) as Json;
  let parent = copy as Record<string | number, Json>;
  for (const p of t.path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
  const last = t.path.at(-1)!;
  if (t.key) {
    const k = String(last);
    const i = Math.min(at, k.length);
    const renamed = k.slice(0, i) + bad + k.slice(i);
    const entries = Object.entries(parent).map(([key, val]) => [key === k ? renamed : key, val]);
    for (const key of Object.keys(parent)) delete parent[key];
    Object.assign(parent, Object.fromEntries(entries));
  } else {
    const s = parent[last] as string;
    const i = Math.min(at, s.length);
    parent[last] = s.slice(0, i) + bad + s.slice(i);
  }
  return copy;
}

/** Close codes documented for the error codes a first frame can earn (docs/protocol.md §5.5). */
const CLOSE_FOR: Record<string, number> = {
  'invalid-message': 4002,
  'not-authenticated': 4002,
  'unsupported-version': 4006,
  'auth-failed': 4001,
};

async function exchange(send: (ws: WebSocket) => void, ws?: WebSocket) {
  const socket = ws ?? new WebSocket(server!.wsUrl, PROTOCOL_NAME);
  const frames: string[] = [];
  socket.on('message', (d) => frames.push(d.toString()));
  const closed = new Promise<number>((r) => socket.on('close', (code) => r(code)));
  if (socket.readyState !== WebSocket.OPEN)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  send(socket);
  return { code: await closed, frames };
}

describe('error frames for hostile input (issue 11 item 6)', () => {
  it('11.6 C0/C1/bidi/surrogate characters in any string or key still get their error frame', async () => {
    await start();
    const cases = CLIENT_FRAMES.flatMap((frame) => targets(frame).map((t) => ({ frame, t })));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cases),
        fc.constantFrom(...HOSTILE),
        fc.nat(40),
        async ({ frame, t }, bad, at) => {
          const text = JSON.stringify(mutate(frame, t, bad, at));
          const { code, frames } = await exchange((ws) => ws.send(text));
          expect(frames.length).toBe(1);
          const m = parseServerMessage(frames[0]!);
          if (!m.ok || m.value.type !== 'error')
            throw new Error(`not an error frame: ${frames[0]}`);
          expect(code).toBe(CLOSE_FOR[m.value.code]);
        },
      ),
      { numRuns: 120 },
    );
    expect((await fetch(`${server!.url}/api/health`)).status).toBe(200);
  }, 120_000);

  it('11.6 an authenticated session gets the error frame too', async () => {
    await start();
    const a = await enroll(server!, cust, 'alice');
    const from = a.messages.length;
    a.sendRaw('{"v":1,"type":"pong","nonce":"a","\u0085\u202e":1}');
    const e = await a.waitFor((m) => m.type === 'error', 5000, from);
    expect(e).toMatchObject({ type: 'error', code: 'invalid-message' });
    expect((await a.waitClosed()).code).toBe(4002);
  });

  it('11.6 a binary frame gets invalid-message and 4002', async () => {
    await start();
    const { code, frames } = await exchange((ws) => ws.send(Buffer.from([1, 2, 3])));
    expect(code).toBe(4002);
    expect(JSON.parse(frames[0]!)).toMatchObject({ type: 'error', code: 'invalid-message' });
  });

  it('11.6 invalid UTF-8 in a text frame closes with 1007', async () => {
    await start();
    const hello = Buffer.from(JSON.stringify(CLIENT_FRAMES[0]));
    for (const bad of [
      [0xff],
      [0xc3, 0x28],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
    ]) {
      const i = hello.indexOf('Custodian');
      const bytes = Buffer.concat([hello.subarray(0, i), Buffer.from(bad), hello.subarray(i)]);
      const { code } = await exchange((ws) => ws.send(bytes, { binary: false }));
      expect(code).toBe(1007);
    }
    expect((await fetch(`${server!.url}/api/health`)).status).toBe(200);
  });
});
