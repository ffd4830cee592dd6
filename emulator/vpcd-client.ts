/**
 * vpcd front-end: puts a {@link VirtualCard} into a pcscd reader served by vsmartcard's vpcd
 * driver (docs/card-reference.md §10). vpcd listens on TCP (35963 for slot 0, 35964 for slot 1); the card
 * side connects as a client. Every message in both directions is a 2-byte big-endian length and
 * a payload. From vpcd, a 1-byte payload is a control code (00 power off, 01 power on, 02 reset,
 * 04 get ATR); anything longer is a C-APDU answered with the R-APDU. The card is "inserted" for
 * as long as the connection is open.
 * @module
 */
import { Socket } from 'node:net';
import type { VirtualCard } from './virtual-card';

/** Options of {@link connectVpcd}. */
export type VpcdOptions = {
  /** vpcd host (default 127.0.0.1). */
  readonly host?: string;
  /** vpcd port of the reader slot (35963 = slot 0 in the Debian config). */
  readonly port: number;
  /** Diagnostic log (never receives APDU contents, which may carry PINs). */
  readonly log?: (msg: string) => void;
  /** How long to keep retrying while vpcd does not listen yet (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Pause between connection attempts (default 100 ms). */
  readonly retryIntervalMs?: number;
};

/** A virtual card sitting in a vpcd reader. */
export type VpcdConnection = {
  /** Removes the card cleanly (FIN to vpcd) and resolves when the socket is closed. */
  close(): Promise<void>;
  /** Resolves when the connection ends, whoever ended it. */
  readonly closed: Promise<void>;
  /**
   * Drops the connection at once without answering anything further: a card yanked out of
   * the reader mid-command (for tests of removal handling).
   */
  abort(): void;
};

const CTRL = { POWER_OFF: 0x00, POWER_ON: 0x01, RESET: 0x02, GET_ATR: 0x04 } as const;
/** The largest payload a 2-byte length can frame. */
const MAX_FRAME = 0xffff;
/** SW 6F00: answered when the card's response cannot be framed or the card threw. */
const SW_INTERNAL_ERROR = Uint8Array.of(0x6f, 0x00);

/**
 * Connects `card` to vpcd, retrying until vpcd listens or `connectTimeoutMs` passes, then
 * serves vpcd's requests until closed. Rejects when vpcd cannot be reached in time.
 */
export async function connectVpcd(
  card: VirtualCard,
  options: VpcdOptions,
): Promise<VpcdConnection> {
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RangeError(`bad vpcd port ${port}`);
  const log = options.log ?? (() => undefined);
  const deadline = Date.now() + (options.connectTimeoutMs ?? 10_000);
  const retry = options.retryIntervalMs ?? 100;
  let socket: Socket;
  for (let attempt = 1; ; attempt += 1) {
    try {
      socket = await openSocket(host, port, Math.max(1, deadline - Date.now()));
      break;
    } catch (e) {
      if (Date.now() + retry >= deadline) {
        throw new Error(
          `vpcd at ${host}:${port} not reachable after ${attempt} attempts: ${String(e)}`,
          {
            cause: e,
          },
        );
      }
      await new Promise((r) => setTimeout(r, retry));
    }
  }
  log(`vpcd ${host}:${port}: connected`);
  return serve(card, socket, log, `${host}:${port}`);
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    s.once('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    });
    s.connect({ host, port }, () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

function serve(
  card: VirtualCard,
  socket: Socket,
  log: (msg: string) => void,
  where: string,
): VpcdConnection {
  socket.setNoDelay(true);
  let buffered: Buffer = Buffer.alloc(0);
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const send = (payload: Uint8Array): void => {
    if (socket.destroyed || !socket.writable) return;
    const header = Buffer.from([payload.length >> 8, payload.length & 0xff]);
    socket.write(Buffer.concat([header, payload]));
  };

  const handle = (payload: Buffer): void => {
    if (payload.length === 1) {
      const code = payload[0]!;
      if (code === CTRL.POWER_OFF) card.powerOff();
      else if (code === CTRL.POWER_ON) card.powerOn();
      else if (code === CTRL.RESET) card.reset();
      else if (code === CTRL.GET_ATR) send(card.atr());
      else log(`vpcd ${where}: unknown control byte ${code.toString(16)}`);
      return;
    }
    if (payload.length === 0) return;
    let response: Uint8Array;
    try {
      response = card.process(new Uint8Array(payload));
    } catch (e) {
      // VirtualCard promises not to throw; if it does, answer like a card with an internal error.
      log(`vpcd ${where}: card threw: ${e instanceof Error ? e.message : typeof e}`);
      response = SW_INTERNAL_ERROR;
    }
    if (!(response instanceof Uint8Array) || response.length > MAX_FRAME || response.length < 2) {
      log(`vpcd ${where}: response of ${String(response?.length)} bytes cannot be framed`);
      response = SW_INTERNAL_ERROR;
    }
    send(response);
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const len = buffered.readUInt16BE(0);
      if (buffered.length < 2 + len) break;
      const payload = buffered.subarray(2, 2 + len);
      buffered = buffered.subarray(2 + len);
      if (socket.destroyed) return;
      try {
        handle(payload);
      } catch (e) {
        // A card bug on power/reset/ATR must not take the process down with it.
        log(`vpcd ${where}: card failed: ${e instanceof Error ? e.message : typeof e}`);
      }
    }
  });
  socket.on('error', (e) => log(`vpcd ${where}: ${e.message}`));
  socket.on('close', () => {
    log(`vpcd ${where}: closed`);
    resolveClosed();
  });

  return {
    closed,
    abort() {
      socket.destroy();
    },
    async close() {
      if (!socket.destroyed) {
        socket.end();
        // vpcd answers FIN with FIN; if it does not within a second, drop the socket anyway.
        const timer = setTimeout(() => socket.destroy(), 1000);
        await closed;
        clearTimeout(timer);
      }
      await closed;
    },
  };
}
