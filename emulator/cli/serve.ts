/**
 * `serve`: loads a state file, inserts the card into a vpcd reader, saves after every
 * persistent change and ends cleanly on SIGINT/SIGTERM (socket closed, exit 0).
 * @module
 */
import { EmulatedSmartCardHsm } from '../card/sc-hsm-card';
import { loadState, saveState } from '../card/state-file';
import { connectVpcd } from '../vpcd-client';
import { lockStateFile } from './lock';

/** What `serve` needs from its environment (signals are injectable for tests). */
export type ServeIo = {
  stderr(text: string): void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal(): Promise<string>;
};

/** Serves until stopped; resolves with the exit code. */
export async function serve(
  file: string,
  address: { host: string; port: number; connectTimeoutMs?: number },
  io: ServeIo,
): Promise<number> {
  const state = loadState(file);
  const release = lockStateFile(file);
  try {
    const stop = io.stopSignal().then((signal) => ({ kind: 'stop' as const, signal }));
    const card = new EmulatedSmartCardHsm(state, { onChange: (s) => saveState(file, s) });
    const connecting = connectVpcd(card, {
      host: address.host,
      port: address.port,
      ...(address.connectTimeoutMs === undefined
        ? {}
        : { connectTimeoutMs: address.connectTimeoutMs }),
      log: (msg) => io.stderr(`${msg}\n`),
    });
    // A signal while still connecting ends at once; a late connection is then closed again.
    const first = await Promise.race([
      connecting.then((conn) => ({ kind: 'connected' as const, conn })),
      stop,
    ]);
    if (first.kind === 'stop') {
      connecting.then((c) => c.close()).catch(() => undefined);
      io.stderr(`${first.signal}: stopped before vpcd answered\n`);
      return 0;
    }
    const conn = first.conn;
    io.stderr(`serving ${file} on vpcd ${address.host}:${address.port}\n`);
    const outcome = await Promise.race([
      stop,
      conn.closed.then(() => ({ kind: 'closed' as const })),
    ]);
    if (outcome.kind === 'closed') {
      io.stderr('vpcd closed the connection\n');
      return 1;
    }
    io.stderr(`${outcome.signal}: removing the card\n`);
    await conn.close();
    return 0;
  } finally {
    release();
  }
}
