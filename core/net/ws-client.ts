/**
 * The custodian's connection to the management server: one WebSocket at a time, `hello` first
 * on every connection, reconnect with exponential back-off and full jitter, a watchdog that
 * declares the server dead after missed heartbeats, and validation of every received frame
 * with the protocol parser (docs/protocol.md). Invalid frames are reported and counted; past a
 * limit the connection is closed as a protocol violation. Nothing here throws at the network.
 * @module
 */
import {
  CLOSE_CODES,
  describeCloseCode,
  encodeClientMessage,
  HEARTBEAT,
  parseServerMessage,
  PROTOCOL_VERSION,
  shouldReconnect,
  type ClientMessage,
  type HelloMessage,
  type ProtocolError,
  type ServerMessage,
} from '../../shared/protocol/index';
import { singleLineSafe } from '../../shared/text/terminal-safe';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { systemTimers, type TimerHandle, type Timers } from './timers';
import type { WsConnection, WsConnector } from './ws-transport';

/** Connection state as the UI shows it. */
export type ConnectionState =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'open' }
  | { readonly kind: 'authenticated'; readonly custodianId: string }
  | {
      readonly kind: 'waiting';
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: string;
      /** The server's close code, when the server closed (e.g. 4001 credential refused). */
      readonly code?: number;
    }
  | { readonly kind: 'stopped'; readonly reason: string; readonly code?: number };

/** A frame the parser refused, with how many this connection has sent so far. */
export type InvalidFrame = { readonly error: ProtocolError; readonly count: number };

/** Options of {@link createServerClient}. */
export type ServerClientOptions = {
  readonly url: string;
  readonly connector: WsConnector;
  /** The `hello` to send first on each connection (enrollment or session authentication). */
  readonly hello: () => HelloMessage;
  readonly onMessage: (message: ServerMessage) => void;
  readonly onState: (state: ConnectionState) => void;
  readonly onInvalidFrame: (frame: InvalidFrame) => void;
  /** Transport errors (informational: a close always follows). */
  readonly onTransportError?: (error: Error) => void;
  /** Reconnect after drops (default true; enrollment uses false). */
  readonly reconnect?: boolean;
  /** Invalid frames tolerated per connection before it is closed (default 3). */
  readonly invalidFrameLimit?: number;
  readonly backoff?: BackoffPolicy;
  readonly timers?: Timers;
  readonly random?: () => number;
};

/** A running connection manager. */
export type ServerClient = {
  /** Starts connecting (idempotent). */
  start(): void;
  /** Closes for good; no reconnect. */
  stop(reason?: string): void;
  /** Validates and sends a message; false when not connected (the caller keeps it for later). */
  send(message: ClientMessage): boolean;
  readonly state: ConnectionState;
};

/**
 * Close codes after which reconnecting with the same secret is pointless or unwanted. 4001
 * (credential refused) is not among them (issue 11 item 10): a refusal may be transient (a
 * server restoring its store, a lockout caused by others' guesses), so a session retries it
 * with back-off and the custodian is told each time; a revoked enrollment is 4007 (final).
 */
const FINAL_CODES: ReadonlySet<number> = new Set([
  CLOSE_CODES.SUPERSEDED,
  CLOSE_CODES.UNSUPPORTED_VERSION,
  CLOSE_CODES.REVOKED,
]);

/** Creates the connection manager (not started). */
export function createServerClient(options: ServerClientOptions): ServerClient {
  const timers = options.timers ?? systemTimers;
  const random = options.random ?? Math.random;
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const limit = options.invalidFrameLimit ?? 3;
  const reconnect = options.reconnect ?? true;

  let state: ConnectionState = { kind: 'stopped', reason: 'not started' };
  let started = false;
  let stopped = false;
  let attempt = 0;
  let conn: WsConnection | undefined;
  let generation = 0;
  let retryTimer: TimerHandle | undefined;
  let watchdog: TimerHandle | undefined;
  let heartbeatMs = HEARTBEAT.defaultSeconds * 1000;
  let invalid = 0;
  /** Why we closed the current connection ourselves (then we decide about reconnecting). */
  let localClose: { code: number; reason: string; retry: boolean } | undefined;

  const setState = (s: ConnectionState): void => {
    state = s;
    options.onState(s);
  };

  const clearWatchdog = (): void => {
    if (watchdog !== undefined) timers.clearTimeout(watchdog);
    watchdog = undefined;
  };

  /** The server is dead after missing `missedLimit` heartbeats (docs/protocol.md "Heartbeat"). */
  const armWatchdog = (): void => {
    clearWatchdog();
    const gen = generation;
    watchdog = timers.setTimeout(() => {
      if (gen !== generation || !conn) return;
      closeLocally(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'heartbeat timeout', true);
      conn.terminate();
    }, heartbeatMs * HEARTBEAT.missedLimit);
  };

  const closeLocally = (code: number, reason: string, retry: boolean): void => {
    localClose ??= { code, reason, retry };
  };

  const connect = (): void => {
    if (stopped) return;
    retryTimer = undefined;
    const gen = ++generation;
    invalid = 0;
    localClose = undefined;
    heartbeatMs = HEARTBEAT.defaultSeconds * 1000;
    setState({ kind: 'connecting', attempt });
    conn = options.connector(options.url, {
      onOpen: () => {
        if (gen !== generation) return;
        setState({ kind: 'open' });
        const text = encodeClientMessage(options.hello());
        if (!text.ok) {
          closeLocally(CLOSE_CODES.NORMAL, `cannot build hello: ${text.error.message}`, false);
          conn?.close(CLOSE_CODES.NORMAL, 'client error');
          return;
        }
        conn?.send(text.value);
        armWatchdog();
      },
      onText: (text) => {
        if (gen !== generation) return;
        handleFrame(parseServerMessage(text));
      },
      onBadFrame: (reason) => {
        if (gen !== generation) return;
        handleFrame({ ok: false, error: { code: 'not-text', message: reason } });
      },
      onError: (error) => {
        if (gen === generation) options.onTransportError?.(error);
      },
      onClose: (code, reason) => {
        if (gen !== generation) return;
        conn = undefined;
        clearWatchdog();
        afterClose(code, reason);
      },
    });
  };

  const handleFrame = (parsed: ReturnType<typeof parseServerMessage>): void => {
    if (!parsed.ok) {
      invalid += 1;
      options.onInvalidFrame({ error: parsed.error, count: invalid });
      if (invalid >= limit && conn) {
        // docs/protocol.md §10: a protocol violation is a bug or an attack; no automatic reconnect.
        closeLocally(CLOSE_CODES.PROTOCOL_VIOLATION, 'too many invalid frames', false);
        conn.close(CLOSE_CODES.PROTOCOL_VIOLATION, 'protocol violation');
      }
      return;
    }
    const msg = parsed.value;
    armWatchdog();
    if (msg.type === 'ping') {
      const pong = encodeClientMessage({ v: PROTOCOL_VERSION, type: 'pong', nonce: msg.nonce });
      if (pong.ok) conn?.send(pong.value);
      return;
    }
    if (msg.type === 'welcome') {
      attempt = 0;
      heartbeatMs = msg.heartbeatSeconds * 1000;
      armWatchdog();
      setState({ kind: 'authenticated', custodianId: msg.custodianId });
    }
    options.onMessage(msg);
  };

  const afterClose = (code: number, reason: string): void => {
    const local = localClose;
    localClose = undefined;
    if (stopped) {
      setState({ kind: 'stopped', reason: local?.reason ?? 'stopped', code });
      return;
    }
    // The close reason is server text: kept on one line with control/format characters escaped.
    const why = local
      ? local.reason
      : `${describeCloseCode(code)}${reason ? `: ${singleLineSafe(reason)}` : ''}`;
    const retry = local
      ? local.retry
      : code === CLOSE_CODES.AUTH_FAILED || (!FINAL_CODES.has(code) && shouldReconnect(code));
    if (!reconnect || !retry) {
      stopped = true;
      setState({ kind: 'stopped', reason: why, code });
      return;
    }
    const delayMs = backoffDelay(attempt, random, policy);
    attempt += 1;
    setState({ kind: 'waiting', attempt, delayMs, reason: why, ...(local ? {} : { code }) });
    retryTimer = timers.setTimeout(connect, delayMs);
  };

  return {
    get state() {
      return state;
    },
    start() {
      if (started || stopped) return;
      started = true;
      connect();
    },
    stop(reason = 'stopped by the user') {
      if (stopped) return;
      stopped = true;
      if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
      clearWatchdog();
      if (conn) {
        closeLocally(CLOSE_CODES.NORMAL, reason, false);
        conn.close(CLOSE_CODES.NORMAL, 'bye');
      } else setState({ kind: 'stopped', reason });
    },
    send(message) {
      if (!conn || (state.kind !== 'authenticated' && message.type !== 'hello')) return false;
      const text = encodeClientMessage(message);
      if (!text.ok)
        throw new Error(`refusing to send an invalid ${message.type}: ${text.error.message}`);
      conn.send(text.value);
      return true;
    },
  };
}
