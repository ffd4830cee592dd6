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
    const card = new EmulatedSmartCardHsm(state, { onChange: (s) => saveState(file, s) });
    const conn = await connectVpcd(card, {
      host: address.host,
      port: address.port,
      ...(address.connectTimeoutMs === undefined
        ? {}
        : { connectTimeoutMs: address.connectTimeoutMs }),
      log: (msg) => io.stderr(`${msg}\n`),
    });
    io.stderr(`serving ${file} on vpcd ${address.host}:${address.port}\n`);
    const outcome = await Promise.race([
      io.stopSignal().then((signal) => ({ stop: signal })),
      conn.closed.then(() => ({ stop: undefined })),
    ]);
    if (outcome.stop === undefined) {
      io.stderr('vpcd closed the connection\n');
      return 1;
    }
    io.stderr(`${outcome.stop}: removing the card\n`);
    await conn.close();
    return 0;
  } finally {
    release();
  }
}
