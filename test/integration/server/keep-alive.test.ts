/**
 * Kept-alive admin connections (server/net/http-timeouts.ts): a request after any idle time —
 * with the client's timers running, or with its event loop busy through the idle time as in
 * `npm run bench`'s raw SIGN loop — gets its answer. The old failure: server and client idled
 * out after the same 5 s, a client that was busy when its timer was due sent its next request
 * on the connection the server closed at that moment ("other side closed").
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { adminCall } from '../../../demo/admin';
import type { AppDeps, RunningServer } from '../../../server/app';
import { ADMIN_API } from '../../../server/api/admin-contract';
import { ADMIN_CLIENT_IDLE_MS, api } from '../../../server/admin-cli/admin-client';
import { HTTP_TIMEOUTS } from '../../../server/net/http-timeouts';
import { dataDir, startTestServer, targetCard } from './harness';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(deps: AppDeps = {}): Promise<RunningServer> {
  const card = await targetCard(5, 3);
  server = await startTestServer({ card, opens: 0, fail: false }, dataDir(), {}, deps);
  return server;
}

/** Blocks this thread (timers, I/O) for `ms`, as a long synchronous loop does. */
const blockEventLoop = (ms: number) =>
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every admin client of the project, one request each: a GET and a (non-idempotent) POST. */
function requestsOfEveryClient(s: RunningServer) {
  const t = { url: s.url, token: s.adminToken, ca: undefined };
  return Promise.all([
    api(t, ADMIN_API.listTargets, '/api/targets'),
    api(t, ADMIN_API.lock, '/api/targets/t1/lock'),
    adminCall(s, 'GET', '/api/targets/t1'),
    adminCall(s, 'POST', '/api/targets/t1/lock'),
  ]);
}

describe('admin HTTP keep-alive', () => {
  it('the client drops idle connections long before the server does', () => {
    // The margin is what a client whose timers run late (busy event loop) may be late by.
    expect(HTTP_TIMEOUTS.keepAliveMs - ADMIN_CLIENT_IDLE_MS).toBeGreaterThanOrEqual(20_000);
    // Idle connections must not be cut by the limit on slow request headers.
    expect(HTTP_TIMEOUTS.keepAliveMs).toBeGreaterThan(HTTP_TIMEOUTS.headersMs);
  });

  it('every admin client gets its answer after an event loop blocked past 5 s', async () => {
    const s = await start();
    await requestsOfEveryClient(s); // every client now holds a kept-alive connection
    blockEventLoop(6_000); // longer than the client's idle time and Node's default keep-alive
    const answers = await requestsOfEveryClient(s);
    expect(answers).toHaveLength(4);
  }, 30_000);

  it('every admin client gets its answer after idling past the server keep-alive', async () => {
    // Shortened server timeouts; the client follows the server's Keep-Alive hint.
    const s = await start({ http: { keepAliveMs: 2_500, headersMs: 1_000 } });
    await requestsOfEveryClient(s);
    await sleep(3_500); // the stimulus: idle longer than the server's keep-alive
    const answers = await requestsOfEveryClient(s);
    expect(answers).toHaveLength(4);
  }, 30_000);

  it('an idle kept-alive connection outlives the header timeout and announces its keep-alive', async () => {
    const s = await start({ http: { keepAliveMs: 4_000, headersMs: 500 } });
    const port = new URL(s.url).port;
    const socket = connect(Number(port), '127.0.0.1');
    const answers: string[] = [];
    let buffer = '';
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      for (let i; (i = buffer.indexOf('\r\n\r\n')) >= 0;) {
        const head = buffer.slice(0, i);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < i + 4 + length) break;
        answers.push(head);
        buffer = buffer.slice(i + 4 + length);
      }
    });
    const get = `GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`;
    const answered = async (count: number) => {
      while (answers.length < count && !socket.destroyed) await sleep(10);
      return answers.length;
    };
    socket.write(get);
    expect(await answered(1)).toBe(1);
    expect(answers[0]).toMatch(/keep-alive: timeout=4/i);
    await sleep(1_500); // three header timeouts, within the keep-alive
    socket.write(get);
    expect(await answered(2)).toBe(2);
    socket.destroy();
  }, 30_000);
});
