/**
 * Live ceremony progress for admins as server-sent events: the current snapshot first, then
 * one event per change, until the ceremony reaches a final state or the client leaves.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CeremonySnapshot } from '../ceremonies/context';
import type { CeremonyEngine } from '../ceremonies/engine';
import { HttpError } from './http-util';

const FINAL = new Set(['completed', 'expired', 'cancelled', 'failed']);

/** Streams snapshots of ceremony `id` as `text/event-stream`. */
export async function streamCeremony(
  engine: CeremonyEngine,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const first = engine.get(id);
  if (!first) throw new HttpError(404, `no ceremony ${id}`);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  const send = (s: CeremonySnapshot) => {
    res.write(`event: ceremony\ndata: ${JSON.stringify(s)}\n\n`);
    if (FINAL.has(s.state)) stop();
  };
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  const unsubscribe = engine.watch((s) => {
    if (s.id === id) send(s);
  });
  let stopped = false;
  function stop() {
    if (stopped) return;
    stopped = true;
    clearInterval(keepAlive);
    unsubscribe();
    res.end();
  }
  req.on('close', stop);
  send(first);
}
