/**
 * The custodian WebSocket endpoint (docs/protocol.md): subprotocol `custodian.v1`, `hello`
 * first (enrollment token or session credential), heartbeat, a frame size limit, schema
 * validation of every frame (an invalid frame closes the connection with 4002), per-address
 * and per-custodian limits on failed authentications and violations, and one
 * session per custodian (a newer connection supersedes the older one).
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CLOSE_CODES,
  HEARTBEAT,
  LIMITS,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  encodeServerMessage,
  parseClientMessage,
  type ErrorCode,
  type HelloMessage,
  type ServerMessage,
} from '../../shared/protocol';
import { fromHex } from '../../shared/codec/bytes';
import type { CustodianLink } from '../ceremonies/context';
import type { CeremonyEngine } from '../ceremonies/engine';
import { EnrollmentError, type Enrollment } from '../enroll/enrollment';
import { hashSecret } from '../store/secrets';
import { contained } from '../store/store-health';
import type { Store } from '../store/store';
import { FailureLimiter } from './limiter';
import { messageOf } from '../../shared/error-message';

/** Hub options. */
export type HubOptions = {
  readonly heartbeatSeconds?: number;
  readonly helloTimeoutSeconds?: number;
};

type Session = {
  readonly ws: WebSocket;
  readonly ip: string;
  custodianId: string | undefined;
  helloSeen: boolean;
  pendingPing: string | undefined;
  missed: number;
  timer: NodeJS.Timeout | undefined;
};

/** The WebSocket hub; also the engine's link to connected custodians. */
export class CustodianHub implements CustodianLink {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  private readonly all = new Set<Session>();
  private readonly authFailures = new FailureLimiter(10, 10 * 60_000);
  private engine: CeremonyEngine | undefined;
  private stopping = false;
  private readonly heartbeatSeconds: number;

  constructor(
    private readonly store: Store,
    private readonly enrollment: Enrollment,
    private readonly options: HubOptions = {},
  ) {
    this.heartbeatSeconds = options.heartbeatSeconds ?? HEARTBEAT.defaultSeconds;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: LIMITS.frameBytes,
      // docs/protocol.md §2: no compression (secrets in frames, no decompression bombs).
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(PROTOCOL_NAME) ? PROTOCOL_NAME : false),
    });
  }

  /** Connects the engine (set after both exist). */
  attach(engine: CeremonyEngine): void {
    this.engine = engine;
  }

  /** Handles an HTTP upgrade for the custodian endpoint. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!offered.includes(PROTOCOL_NAME)) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nsubprotocol custodian.v1 required\n',
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.accept(ws, req.socket.remoteAddress ?? '?'),
    );
  }

  isConnected(custodianId: string): boolean {
    return this.sessions.has(custodianId);
  }

  /** Custodian ids with a live session. */
  connected(): string[] {
    return [...this.sessions.keys()];
  }

  send(custodianId: string, message: ServerMessage): boolean {
    const s = this.sessions.get(custodianId);
    return s ? this.write(s, message) : false;
  }

  private write(s: Session, message: ServerMessage): boolean {
    const text = encodeServerMessage(message);
    // A message the schema refuses is a server bug; it is dropped (never sent half-valid) and
    // must not break the caller's state change.
    if (!text.ok) {
      process.stderr.write(
        `custodian-server: dropped an invalid ${message.type}: ${text.error.message}\n`,
      );
      return false;
    }
    if (s.ws.readyState !== s.ws.OPEN) return false;
    s.ws.send(text.value);
    return true;
  }

  private error(s: Session, code: ErrorCode, message: string): void {
    this.write(s, { v: PROTOCOL_VERSION, type: 'error', code, message });
  }

  private close(s: Session, code: number, reason: string): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.ws.close(code, reason.slice(0, 120));
  }

  private accept(ws: WebSocket, ip: string): void {
    const s: Session = {
      ws,
      ip,
      custodianId: undefined,
      helloSeen: false,
      pendingPing: undefined,
      missed: 0,
      timer: undefined,
    };
    this.all.add(s);
    if (this.authFailures.blocked(ip)) {
      this.error(s, 'rate-limited', 'too many failed authentications; try later');
      this.close(s, CLOSE_CODES.AUTH_FAILED, 'rate limited');
      return;
    }
    const helloMs = (this.options.helloTimeoutSeconds ?? HEARTBEAT.helloTimeoutSeconds) * 1000;
    s.timer = setTimeout(() => this.close(s, CLOSE_CODES.HEARTBEAT_TIMEOUT, 'no hello'), helloMs);
    ws.on('message', (data, isBinary) => {
      if (isBinary)
        return this.close(s, CLOSE_CODES.PROTOCOL_VIOLATION, 'binary frames are not allowed');
      void this.onFrame(s, data.toString()).catch((e: unknown) => {
        this.store.health.report('processing a custodian message', e);
        this.error(s, 'internal-error', 'the server could not process this message');
      });
    });
    ws.on('close', () => this.onClose(s));
    ws.on('error', () => undefined);
  }

  private onClose(s: Session): void {
    this.all.delete(s);
    if (s.timer) clearTimeout(s.timer);
    const id = s.custodianId;
    if (id !== undefined && this.sessions.get(id) === s) {
      this.sessions.delete(id);
      // During shutdown the store may already be closed; the stop itself is the record. An
      // event handler must never crash the server: a failed write is contained and reported.
      if (!this.stopping)
        contained(this.store.health, 'audit custodian-disconnected', () =>
          this.store.audit.append('custodian-disconnected', { custodianId: id }),
        );
    }
  }

  private async onFrame(s: Session, text: string): Promise<void> {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      // docs/protocol.md §5.5: an invalid frame gets `error` and close 4002 (4006 for a version).
      // Violations count against the address, so a misbehaving client is soon refused outright.
      this.authFailures.fail(s.ip);
      if (parsed.error.code === 'unsupported-version') {
        this.error(s, 'unsupported-version', parsed.error.message);
        return this.close(s, CLOSE_CODES.UNSUPPORTED_VERSION, 'unsupported version');
      }
      const detail = [parsed.error.message, ...(parsed.error.issues ?? [])].join('; ');
      this.error(s, 'invalid-message', detail.slice(0, 500));
      return this.close(s, CLOSE_CODES.PROTOCOL_VIOLATION, 'invalid message');
    }
    const msg = parsed.value;
    // Any valid frame proves the peer alive (docs/protocol.md §3.3).
    s.missed = 0;
    if (s.custodianId === undefined) {
      if (msg.type !== 'hello') {
        this.error(s, 'not-authenticated', 'send hello first');
        return this.close(s, CLOSE_CODES.PROTOCOL_VIOLATION, 'hello expected first');
      }
      if (s.helloSeen) return;
      s.helloSeen = true;
      return this.onHello(s, msg);
    }
    switch (msg.type) {
      case 'hello':
        return this.error(s, 'already-authenticated', 'this session is already authenticated');
      case 'pong':
        if (msg.nonce === s.pendingPing) s.pendingPing = undefined;
        return;
      case 'decision':
        if (!this.engine) return this.error(s, 'internal-error', 'ceremonies unavailable');
        return this.engine.decide(s.custodianId, msg);
    }
  }

  private async onHello(s: Session, hello: HelloMessage): Promise<void> {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    let custodianId: string;
    let credential: string | undefined;
    const auth = hello.auth;
    if (auth.kind === 'enroll') {
      try {
        const r = await this.enrollment.enrollWithToken(auth.token, fromHex(auth.pka), auth.keyId);
        custodianId = r.custodian.id;
        credential = r.credential;
      } catch (e) {
        if (e instanceof EnrollmentError) return this.refuse(s, e.message);
        // Not the custodian's fault (e.g. the target is unreachable): the token is not used
        // up, and 1011 tells the client to retry later.
        this.error(
          s,
          'internal-error',
          `enrollment could not be completed now: ${messageOf(e)}`.slice(0, 500),
        );
        return this.close(s, 1011, 'try again later');
      }
    } else {
      const c = this.store.custodians.byCredentialHash(hashSecret(auth.credential));
      if (this.authFailures.blocked(`id:${auth.custodianId}`)) {
        return this.refuse(s, 'too many failed attempts for this custodian; try later');
      }
      if (!c || c.id !== auth.custodianId) {
        this.authFailures.fail(`id:${auth.custodianId}`);
        return this.refuse(s, 'unknown custodian or credential');
      }
      custodianId = c.id;
    }
    if (s.ws.readyState !== s.ws.OPEN) return;
    const older = this.sessions.get(custodianId);
    if (older) this.close(older, CLOSE_CODES.SUPERSEDED, 'superseded by a newer session');
    s.custodianId = custodianId;
    this.sessions.set(custodianId, s);
    this.store.audit.append('custodian-connected', {
      custodianId,
      ip: s.ip,
      client: hello.client.name,
    });
    this.write(s, {
      v: PROTOCOL_VERSION,
      type: 'welcome',
      custodianId,
      ...(credential === undefined ? {} : { credential }),
      serverTime: new Date().toISOString(),
      heartbeatSeconds: this.heartbeatSeconds,
    });
    this.scheduleHeartbeat(s);
    this.engine?.custodianConnected(custodianId);
  }

  private refuse(s: Session, reason: string): void {
    this.authFailures.fail(s.ip);
    this.store.audit.append('auth-refused', { ip: s.ip, reason });
    this.error(s, 'auth-failed', reason);
    this.close(s, CLOSE_CODES.AUTH_FAILED, 'authentication failed');
  }

  private scheduleHeartbeat(s: Session): void {
    s.timer = setTimeout(() => {
      if (s.pendingPing !== undefined) s.missed++;
      if (s.missed >= HEARTBEAT.missedLimit)
        return this.close(s, CLOSE_CODES.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
      s.pendingPing = randomBytes(8).toString('hex');
      this.write(s, { v: PROTOCOL_VERSION, type: 'ping', nonce: s.pendingPing });
      this.scheduleHeartbeat(s);
    }, this.heartbeatSeconds * 1000);
    s.timer.unref();
  }

  /** Closes every connection with SERVER_SHUTDOWN. */
  closeAll(): void {
    this.stopping = true;
    for (const s of this.all) this.close(s, CLOSE_CODES.SERVER_SHUTDOWN, 'server shutting down');
    this.wss.close();
  }
}
