/**
 * A malicious management server for tests: a real WebSocket server that speaks the custodian
 * protocol (docs/protocol.md §2–§3: subprotocol `custodian.v1`, hello → welcome) and then sends
 * whatever a test tells it to — valid frames, hostile offers, oversize or malformed frames —
 * WITHOUT the protocol encoder's checks. It records every frame it receives (raw), so tests can
 * assert what the custodian sent and that no PIN ever crossed the network (docs/card-reference.md §14.1).
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseClientMessage, type ClientMessage } from '../../../shared/protocol/index';

/** One frame the hostile server received, as it arrived. */
export type ReceivedFrame = {
  readonly connection: number;
  readonly binary: boolean;
  /** Text frames verbatim; binary frames as lower-case hex. */
  readonly text: string;
};

/** What to answer to a hello; `undefined` = the default welcome. */
export type HelloHandler = (
  hello: Extract<ClientMessage, { type: 'hello' }>,
  socket: HostileSocket,
) => void;

/** One accepted client connection. */
export type HostileSocket = {
  readonly id: number;
  /** Sends `frame` as JSON text, unvalidated (hostile frames allowed). */
  send(frame: unknown): void;
  /** Sends raw text, or bytes as a binary frame. */
  sendRaw(data: string | Uint8Array): void;
  /** Drops the TCP connection without a close handshake. */
  terminate(): void;
  close(code: number, reason?: string): void;
  readonly closed: Promise<{ code: number; reason: string }>;
};

/** The running hostile server. */
export type HostileServer = {
  readonly url: string;
  readonly port: number;
  /** The session credential handed out on enrollment. */
  readonly credential: string;
  readonly custodianId: string;
  readonly received: ReceivedFrame[];
  /** Frames that parsed as client messages, in order. */
  readonly messages: ClientMessage[];
  readonly sockets: HostileSocket[];
  /** The most recent connection. */
  current(): HostileSocket;
  setOnHello(handler: HelloHandler | undefined): void;
  /** Sends to the current connection. */
  send(frame: unknown): void;
  sendRaw(data: string | Uint8Array): void;
  /** Resolves with the first message (from index `from`) matching `pred`; rejects after `ms`. */
  waitFor(
    pred: (m: ClientMessage) => boolean,
    what: string,
    ms?: number,
    from?: number,
  ): Promise<ClientMessage>;
  /** Resolves once `n` connections were accepted in total. */
  waitConnections(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A protocol timestamp without milliseconds (always valid for the schema). */
export const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Starts the hostile server on 127.0.0.1 (random port). */
export async function startHostileServer(
  opts: {
    readonly custodianId?: string;
    readonly heartbeatSeconds?: number;
    /** The clock the server claims in `welcome` (a hostile server may lie about the time). */
    readonly serverTime?: () => Date;
  } = {},
): Promise<HostileServer> {
  const custodianId = opts.custodianId ?? 'hostile-cust-1';
  const credential = 'Hq' + 'x7'.repeat(21);
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    // The hostile server itself accepts anything large: it wants to see what the client sends.
    maxPayload: 1024 * 1024,
    perMessageDeflate: false,
    handleProtocols: (p) => (p.has('custodian.v1') ? 'custodian.v1' : false),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  const port = (wss.address() as AddressInfo).port;
  const received: ReceivedFrame[] = [];
  const messages: ClientMessage[] = [];
  const sockets: HostileSocket[] = [];
  const raw: WebSocket[] = [];
  let onHello: HelloHandler | undefined;

  const welcome = (hello: Extract<ClientMessage, { type: 'hello' }>, s: HostileSocket) => {
    s.send({
      v: 1,
      type: 'welcome',
      custodianId,
      serverTime: isoSeconds(opts.serverTime?.() ?? new Date()),
      heartbeatSeconds: opts.heartbeatSeconds ?? 30,
      ...(hello.auth.kind === 'enroll' ? { credential } : {}),
    });
  };

  wss.on('connection', (ws) => {
    const id = sockets.length + 1;
    raw.push(ws);
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    const socket: HostileSocket = {
      id,
      send: (frame) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
      },
      sendRaw: (data) => {
        if (ws.readyState !== ws.OPEN) return;
        if (typeof data === 'string') ws.send(data);
        else ws.send(data, { binary: true });
      },
      terminate: () => ws.terminate(),
      close: (code, reason) => ws.close(code, reason),
      closed,
    };
    sockets.push(socket);
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const text = isBinary ? buf.toString('hex') : buf.toString('utf8');
      received.push({ connection: id, binary: isBinary, text });
      if (isBinary) return;
      const parsed = parseClientMessage(text);
      if (!parsed.ok) return;
      const m = parsed.value;
      messages.push(m);
      if (m.type === 'hello') (onHello ?? welcome)(m, socket);
    });
  });

  const current = (): HostileSocket => {
    const s = sockets.at(-1);
    if (!s) throw new Error('no client connected to the hostile server');
    return s;
  };

  return {
    url: `ws://127.0.0.1:${port}/ws`,
    port,
    credential,
    custodianId,
    received,
    messages,
    sockets,
    current,
    setOnHello: (h) => void (onHello = h),
    send: (frame) => current().send(frame),
    sendRaw: (data) => current().sendRaw(data),
    async waitFor(pred, what, ms = 10_000, from = 0) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = messages.slice(from).find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) {
          const seen = messages.map((m) => m.type).join(', ');
          throw new Error(`hostile server: no ${what} within ${ms} ms (got: ${seen || 'none'})`);
        }
        await sleep(20);
      }
    },
    async waitConnections(n, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (sockets.length < n) {
        if (Date.now() > deadline)
          throw new Error(`hostile server: ${sockets.length} of ${n} connections within ${ms} ms`);
        await sleep(20);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of raw) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/**
 * Places where `pin` shows up in `frames`: as text, as upper/lower-case hex of its ASCII bytes,
 * or base64 of them (any encoding a leaking client might use).
 */
export function pinLeaks(frames: readonly ReceivedFrame[], pin: string): string[] {
  const ascii = Buffer.from(pin, 'ascii');
  const needles = [pin, ascii.toString('hex'), ascii.toString('base64').replace(/=+$/, '')];
  const leaks: string[] = [];
  for (const f of frames) {
    const hay = f.text.toLowerCase();
    for (const n of needles) {
      if (hay.includes(n.toLowerCase()))
        leaks.push(`connection ${f.connection}: ${f.text.slice(0, 80)}`);
    }
  }
  return leaks;
}
