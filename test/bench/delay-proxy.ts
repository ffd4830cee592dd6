/**
 * A loopback TCP proxy that delays every chunk by half the simulated round-trip time in each
 * direction, preserving order (timers of equal delay fire in insertion order). Connection setup
 * is delayed too, as on a real link.
 *
 * It runs in a worker thread with its own event loop: in the bench process the server, the
 * engines and the emulated cards keep the main thread busy, and a delay timer on that thread
 * would fire late by whatever work happens to run, adding latency a real link does not have.
 * @module
 */
import { Worker } from 'node:worker_threads';

/** A running proxy. */
export type DelayProxy = { readonly port: number; close(): Promise<void> };

/** The worker: plain JavaScript (it is evaluated, not compiled). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { connect, createServer } = require('node:net');
const { upstreamPort, half } = workerData;
const sockets = new Set();
function pump(from, to) {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), half));
  from.on('end', () => setTimeout(() => to.end(), half));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), half));
}
const server = createServer((client) => {
  client.setNoDelay(true);
  const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
  upstream.setNoDelay(true);
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  }
  pump(client, upstream);
  pump(upstream, client);
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', () => {
  for (const s of sockets) s.destroy();
  server.close(() => parentPort.postMessage({ closed: true }));
});
`;

/** Starts a proxy on 127.0.0.1 to `upstreamPort` with `rttMs` added per round trip. */
export async function startDelayProxy(upstreamPort: number, rttMs: number): Promise<DelayProxy> {
  const worker = new Worker(WORKER, { eval: true, workerData: { upstreamPort, half: rttMs / 2 } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port: number }) => resolve(m.port));
  });
  return {
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage('close');
      });
      await worker.terminate();
    },
  };
}
