/**
 * The custodian's connection to the management server: one WebSocket at a time, `hello` first
 * on every connection, reconnect with exponential back-off and full jitter
 * (core/net/reconnect-policy.ts), a watchdog that declares the server dead after missed
 * heartbeats (core/net/heartbeat-watchdog.ts), and validation of every received frame with the
 * protocol parser (docs/protocol.md). Invalid frames are reported and counted; past a limit the
 * connection is closed as a protocol violation. Nothing here throws at the network.
 * @module
 */
import {
  CLOSE_CODES,
  encodeClientMessage,
  HEARTBEAT,
  parseServerMessage,
  PROTOCOL_VERSION,
  type ClientMessage,
  type HelloMessage,
  type ProtocolError,
  type ServerMessage,
} from '../../shared/protocol/index';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { createHeartbeatWatchdog, type HeartbeatWatchdog } from './heartbeat-watchdog';
import {
  closeOutcome,
  createRetrySchedule,
  type LocalClose,
  type RetrySchedule,
} from './reconnect-policy';
import { systemTimers, type Timers } from './timers';
import type { WsConnection, WsConnector, WsEvents } from './ws-transport';

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

/** Creates the connection manager (not started). */
export function createServerClient(options: ServerClientOptions): ServerClient {
  return new ServerConnection(options);
}

/** The connection manager: one connection at a time, each a numbered generation. */
class ServerConnection implements ServerClient {
  private current: ConnectionState = { kind: 'stopped', reason: 'not started' };
  private started = false;
  private stopped = false;
  private conn: WsConnection | undefined;
  /** Counts connections; events of an older one are ignored. */
  private generation = 0;
  private heartbeatMs = HEARTBEAT.defaultSeconds * 1000;
  /** Invalid frames received on the current connection. */
  private invalid = 0;
  /** Why we closed the current connection ourselves (then we decide about reconnecting). */
  private localClose: LocalClose | undefined;
  private readonly retries: RetrySchedule;
  private readonly watchdog: HeartbeatWatchdog;

  constructor(private readonly options: ServerClientOptions) {
    const timers = options.timers ?? systemTimers;
    const random = options.random ?? Math.random;
    this.retries = createRetrySchedule(timers, random, options.backoff ?? DEFAULT_BACKOFF);
    this.watchdog = createHeartbeatWatchdog(timers);
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  stop(reason = 'stopped by the user'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.retries.cancel();
    this.watchdog.clear();
    if (this.conn) {
      this.closeLocally(CLOSE_CODES.NORMAL, reason, false);
      this.conn.close(CLOSE_CODES.NORMAL, 'bye');
    } else this.setState({ kind: 'stopped', reason });
  }

  send(message: ClientMessage): boolean {
    if (!this.conn || (this.current.kind !== 'authenticated' && message.type !== 'hello')) {
      return false;
    }
    const text = encodeClientMessage(message);
    if (!text.ok) {
      throw new Error(`refusing to send an invalid ${message.type}: ${text.error.message}`);
    }
    this.conn.send(text.value);
    return true;
  }

  private setState(s: ConnectionState): void {
    this.current = s;
    this.options.onState(s);
  }

  private closeLocally(code: number, reason: string, retry: boolean): void {
    this.localClose ??= { code, reason, retry };
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.invalid = 0;
    this.localClose = undefined;
    this.heartbeatMs = HEARTBEAT.defaultSeconds * 1000;
    this.setState({ kind: 'connecting', attempt: this.retries.attempt });
    this.conn = this.options.connector(this.options.url, this.eventsOf(gen));
  }

  /** The transport's events for connection number `gen`; those of older connections are dropped. */
  private eventsOf(gen: number): WsEvents {
    const live = (): boolean => gen === this.generation;
    return {
      onOpen: () => {
        if (live()) this.sendHello();
      },
      onText: (text) => {
        if (live()) this.handleFrame(parseServerMessage(text));
      },
      onBadFrame: (reason) => {
        if (live()) this.handleFrame({ ok: false, error: { code: 'not-text', message: reason } });
      },
      onError: (error) => {
        if (live()) this.options.onTransportError?.(error);
      },
      onClose: (code, reason) => {
        if (!live()) return;
        this.conn = undefined;
        this.watchdog.clear();
        this.afterClose(code, reason);
      },
    };
  }

  /** `hello` first on every connection; a hello that cannot be encoded closes it for good. */
  private sendHello(): void {
    this.setState({ kind: 'open' });
    const text = encodeClientMessage(this.options.hello());
    if (!text.ok) {
      this.closeLocally(CLOSE_CODES.NORMAL, `cannot build hello: ${text.error.message}`, false);
      this.conn?.close(CLOSE_CODES.NORMAL, 'client error');
      return;
    }
    this.conn?.send(text.value);
    this.armWatchdog();
  }

  /** The server is dead after missing `missedLimit` heartbeats (docs/protocol.md "Heartbeat"). */
  private armWatchdog(): void {
    const gen = this.generation;
    this.watchdog.arm(this.heartbeatMs * HEARTBEAT.missedLimit, () => {
      if (gen !== this.generation || !this.conn) return;
      this.closeLocally(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'heartbeat timeout', true);
      this.conn.terminate();
    });
  }

  private handleFrame(parsed: ReturnType<typeof parseServerMessage>): void {
    if (parsed.ok) this.acceptMessage(parsed.value);
    else this.rejectFrame(parsed.error);
  }

  /** Counts a refused frame; past the limit the connection is closed as a protocol violation. */
  private rejectFrame(error: ProtocolError): void {
    this.invalid += 1;
    this.options.onInvalidFrame({ error, count: this.invalid });
    if (this.invalid >= (this.options.invalidFrameLimit ?? 3) && this.conn) {
      // docs/protocol.md §10: a protocol violation is a bug or an attack; no automatic reconnect.
      this.closeLocally(CLOSE_CODES.PROTOCOL_VIOLATION, 'too many invalid frames', false);
      this.conn.close(CLOSE_CODES.PROTOCOL_VIOLATION, 'protocol violation');
    }
  }

  /** A valid frame: a sign of life; pings are answered here, `welcome` authenticates. */
  private acceptMessage(msg: ServerMessage): void {
    this.armWatchdog();
    if (msg.type === 'ping') {
      const pong = encodeClientMessage({ v: PROTOCOL_VERSION, type: 'pong', nonce: msg.nonce });
      if (pong.ok) this.conn?.send(pong.value);
      return;
    }
    if (msg.type === 'welcome') {
      this.retries.reset();
      this.heartbeatMs = msg.heartbeatSeconds * 1000;
      this.armWatchdog();
      this.setState({ kind: 'authenticated', custodianId: msg.custodianId });
    }
    this.options.onMessage(msg);
  }

  /** After a close: stop for good, or wait a jittered delay and connect again. */
  private afterClose(code: number, reason: string): void {
    const local = this.localClose;
    this.localClose = undefined;
    if (this.stopped) {
      this.setState({ kind: 'stopped', reason: local?.reason ?? 'stopped', code });
      return;
    }
    const { why, retry } = closeOutcome(code, reason, local);
    if (!(this.options.reconnect ?? true) || !retry) {
      this.stopped = true;
      this.setState({ kind: 'stopped', reason: why, code });
      return;
    }
    const { attempt, delayMs } = this.retries.next();
    this.setState({ kind: 'waiting', attempt, delayMs, reason: why, ...(local ? {} : { code }) });
    this.retries.wait(delayMs, () => this.connect());
  }
}
