/**
 * Memory per idle custodian connection: the real server runs in a child process
 * (idle-server.ts) with 10,000 custodians in its store; this process opens authenticated
 * sessions to it over loopback (`hello` with a session credential, `pong` to every `ping`,
 * nothing else) and asks the child for its memory after a full GC at 0, 1,000 and 10,000
 * connections. The clients' own memory is reported separately (this process).
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  encodeClientMessage,
  parseServerMessage,
  PROTOCOL_NAME,
} from '../../shared/protocol/index';
import { unwrap } from '../../shared/result';
import { benchCredential, benchCustodianId } from './idle-server';
import { gc } from './stats';

type Mem = { rss: number; heapUsed: number; external: number; sessions: number };

/** Memory at one connection count, as deltas per connection from the empty server (bytes). */
export type IdlePoint = {
  readonly connections: number;
  readonly sessions: number;
  readonly rssPerConnection: number;
  readonly heapPerConnection: number;
  readonly clientRssPerConnection: number;
};

function call<T>(child: ChildProcess, msg: object, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`idle server: no answer to ${JSON.stringify(msg)}`)),
      ms,
    );
    child.once('message', (raw: unknown) => {
      clearTimeout(timer);
      const r = raw as { ok: boolean; value?: T; error?: string };
      if (r.ok) resolve(r.value as T);
      else reject(new Error(r.error));
    });
    child.send(msg);
  });
}

function connect(port: number, i: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, PROTOCOL_NAME, {
      perMessageDeflate: false,
    });
    const timer = setTimeout(() => reject(new Error(`connection ${i}: no welcome`)), 30_000);
    ws.on('open', () =>
      ws.send(
        unwrap(
          encodeClientMessage({
            v: 1,
            type: 'hello',
            client: { name: 'bench', version: '0.1.0' },
            auth: {
              kind: 'session',
              custodianId: benchCustodianId(i),
              credential: benchCredential(i),
            },
          }),
        ),
      ),
    );
    ws.on('message', (data) => {
      const m = unwrap(parseServerMessage(data.toString()));
      if (m.type === 'welcome') {
        clearTimeout(timer);
        resolve(ws);
      } else if (m.type === 'ping')
        ws.send(unwrap(encodeClientMessage({ v: 1, type: 'pong', nonce: m.nonce })));
      else if (m.type === 'error') reject(new Error(`connection ${i}: ${m.code} ${m.message}`));
    });
    ws.on('error', (e) => reject(e));
    ws.on('close', (code) => reject(new Error(`connection ${i} closed ${code}`)));
  });
}

/** Runs the benchmark for the given connection counts (ascending). */
export async function benchIdleMemory(
  counts: readonly number[] = [1000, 10_000],
): Promise<IdlePoint[]> {
  const max = Math.max(...counts);
  const child = fork(fileURLToPath(new URL('./idle-server.ts', import.meta.url)), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const sockets: WebSocket[] = [];
  try {
    const { port } = await call<{ port: number }>(child, { cmd: 'setup', n: max });
    const base = await call<Mem>(child, { cmd: 'measure' });
    gc();
    const clientBase = process.memoryUsage().rss;
    const out: IdlePoint[] = [];
    for (const n of counts) {
      while (sockets.length < n) {
        const batch = Math.min(200, n - sockets.length);
        const start = sockets.length;
        sockets.push(
          ...(await Promise.all(Array.from({ length: batch }, (_, k) => connect(port, start + k)))),
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
      const m = await call<Mem>(child, { cmd: 'measure' });
      gc();
      const clientRss = process.memoryUsage().rss;
      out.push({
        connections: n,
        sessions: m.sessions,
        rssPerConnection: (m.rss - base.rss) / n,
        heapPerConnection: (m.heapUsed + m.external - base.heapUsed - base.external) / n,
        clientRssPerConnection: (clientRss - clientBase) / n,
      });
    }
    return out;
  } finally {
    for (const s of sockets) s.terminate();
    await call(child, { cmd: 'stop' }, 30_000).catch(() => child.kill());
  }
}
