/**
 * The custodian WebSocket endpoint (docs/protocol.md): subprotocol `custodian.v1`, `hello`
 * first (enrollment token or session credential), heartbeat, a frame size limit, schema
 * validation of every frame (an invalid frame gets its error frame and closes only that
 * connection with 4002), caps on unauthenticated connections and delayed answers to failed
 * authentications (./admission), and one session per custodian (a newer connection
 * supersedes the older one).
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CLOSE_CODES,
  HEARTBEAT,
  LIMITS,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  parseClientMessage,
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
import { messageOf } from '../../shared/error-message';
import {
  Admission,
  clientAddress,
  trustedProxyList,
  type ConnectionLimits,
  type FailureThrottle,
} from './admission';
import {
  closeSession,
  newSession,
  scheduleHeartbeat,
  sendError,
  writeFrame,
  writeFrameToAll,
  type Session,
} from './hub-session';

/** Hub options. */
export type HubOptions = {
  readonly heartbeatSeconds?: number;
  readonly helloTimeoutSeconds?: number;
  /** Caps on unauthenticated connections (server/README.md "Connection limits"). */
  readonly limits?: ConnectionLimits;
  /** Addresses/subnets whose `X-Forwarded-For` is believed (server/README.md). */
  readonly trustedProxies?: readonly string[];
  readonly throttle?: FailureThrottle;
  /** Milliseconds clock for the failure window (tests). */
  readonly clock?: () => number;
  /** The server's display name, sent in `welcome` (docs/protocol.md §5.1). */
  readonly serverName?: string;
};

/** The WebSocket hub; also the engine's link to connected custodians. */
export class CustodianHub implements CustodianLink {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  private readonly all = new Set<Session>();
  private readonly admission: Admission;
  private readonly trusted: ReturnType<typeof trustedProxyList>;
  private engine: CeremonyEngine | undefined;
  private stopping = false;
  private readonly heartbeatSeconds: number;

  constructor(
    private readonly store: Store,
    private readonly enrollment: Enrollment,
    private readonly options: HubOptions = {},
  ) {
    this.heartbeatSeconds = options.heartbeatSeconds ?? HEARTBEAT.defaultSeconds;
    this.admission = new Admission(options.limits, options.throttle, options.clock);
    this.trusted = trustedProxyList(options.trustedProxies ?? []);
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
    const ip = clientAddress(req, this.trusted);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, ip));
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
    return s ? writeFrame(s, message) : false;
  }

  /** Sends one message to several custodians, validated and encoded once. */
  sendToAll(custodianIds: Iterable<string>, message: ServerMessage): void {
    writeFrameToAll(
      [...custodianIds].map((id) => this.sessions.get(id)),
      message,
    );
  }

  private accept(ws: WebSocket, ip: string): void {
    const s = newSession(ws, ip);
    this.all.add(s);
    ws.on('close', () => this.onClose(s));
    ws.on('error', () => undefined);
    // Issue 7 item 10: bounded unauthenticated connections; the excess is told to come back.
    if (!this.admission.admit(ip)) {
      sendError(s, 'rate-limited', 'too many unauthenticated connections; try again later');
      closeSession(s, CLOSE_CODES.TRY_AGAIN_LATER, 'too many connections');
      return;
    }
    s.admitted = true;
    const helloMs = (this.options.helloTimeoutSeconds ?? HEARTBEAT.helloTimeoutSeconds) * 1000;
    s.timer = setTimeout(() => closeSession(s, CLOSE_CODES.HEARTBEAT_TIMEOUT, 'no hello'), helloMs);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        sendError(s, 'invalid-message', 'binary frames are not allowed');
        return closeSession(s, CLOSE_CODES.PROTOCOL_VIOLATION, 'binary frame');
      }
      void this.onFrame(s, data.toString()).catch((e: unknown) => {
        this.store.health.report('processing a custodian message', e);
        sendError(s, 'internal-error', 'the server could not process this message');
      });
    });
  }

  private leaveAdmission(s: Session): void {
    if (s.admitted) this.admission.release(s.ip);
    s.admitted = false;
    if (s.deferred) this.admission.refusalDone(s.ip);
    s.deferred = false;
  }

  private onClose(s: Session): void {
    this.all.delete(s);
    this.leaveAdmission(s);
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
      // Only this connection pays: a violation is not an authentication failure (issue 7.5).
      if (parsed.error.code === 'unsupported-version') {
        sendError(s, 'unsupported-version', parsed.error.message);
        return closeSession(s, CLOSE_CODES.UNSUPPORTED_VERSION, 'unsupported version');
      }
      const detail = [parsed.error.message, ...(parsed.error.issues ?? [])].join('; ');
      sendError(s, 'invalid-message', detail);
      return closeSession(s, CLOSE_CODES.PROTOCOL_VIOLATION, 'invalid message');
    }
    const msg = parsed.value;
    // Any valid frame proves the peer alive (docs/protocol.md §3.3).
    s.missed = 0;
    if (s.custodianId === undefined) {
      if (msg.type !== 'hello') {
        sendError(s, 'not-authenticated', 'send hello first');
        return closeSession(s, CLOSE_CODES.PROTOCOL_VIOLATION, 'hello expected first');
      }
      if (s.helloSeen) return;
      s.helloSeen = true;
      return this.onHello(s, msg);
    }
    switch (msg.type) {
      case 'hello':
        return sendError(s, 'already-authenticated', 'this session is already authenticated');
      case 'pong':
        if (msg.nonce === s.pendingPing) s.pendingPing = undefined;
        return;
      case 'decision':
        if (!this.engine) return sendError(s, 'internal-error', 'ceremonies unavailable');
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
        if (e instanceof EnrollmentError) return this.refuse(s, e.message, [`ip:${s.ip}`]);
        // Not the custodian's fault (e.g. the target is unreachable): the token is not used
        // up, and 1011 tells the client to retry later.
        sendError(
          s,
          'internal-error',
          `enrollment could not be completed now: ${messageOf(e)}`.slice(0, 500),
        );
        return closeSession(s, 1011, 'try again later');
      }
    } else {
      // Issue 7 item 4: a correct credential is accepted at once, whatever others got wrong.
      const c = this.store.custodians.byCredentialHash(hashSecret(auth.credential));
      if (!c || c.id !== auth.custodianId) {
        const keys = [`ip:${s.ip}`, `id:${auth.custodianId}`];
        return this.refuse(s, 'unknown custodian or credential', keys);
      }
      custodianId = c.id;
    }
    if (s.ws.readyState !== s.ws.OPEN) return;
    this.leaveAdmission(s);
    const older = this.sessions.get(custodianId);
    if (older) closeSession(older, CLOSE_CODES.SUPERSEDED, 'superseded by a newer session');
    s.custodianId = custodianId;
    this.sessions.set(custodianId, s);
    this.store.audit.append('custodian-connected', {
      custodianId,
      ip: s.ip,
      client: hello.client.name,
    });
    writeFrame(s, {
      v: PROTOCOL_VERSION,
      type: 'welcome',
      custodianId,
      ...(credential === undefined ? {} : { credential }),
      serverTime: new Date().toISOString(),
      heartbeatSeconds: this.heartbeatSeconds,
      ...(this.options.serverName === undefined ? {} : { serverName: this.options.serverName }),
    });
    scheduleHeartbeat(s, this.heartbeatSeconds);
    this.engine?.custodianConnected(custodianId);
  }

  /**
   * A failed authentication: counted per address and per named custodian id, audited, and
   * answered (`auth-failed`, close 4001) after the throttle's delay. Its unauthenticated slot
   * is given back at once, so nobody else's connection is affected.
   */
  private refuse(s: Session, reason: string, keys: readonly string[]): void {
    this.leaveAdmission(s);
    let delayMs = this.admission.fail(keys);
    if (delayMs > 0 && !(s.deferred = this.admission.deferRefusal(s.ip))) delayMs = 0;
    this.store.audit.append('auth-refused', { ip: s.ip, reason, delayMs });
    const answer = () => {
      this.leaveAdmission(s);
      sendError(s, 'auth-failed', reason);
      closeSession(s, CLOSE_CODES.AUTH_FAILED, 'authentication failed');
    };
    if (delayMs === 0) return answer();
    s.timer = setTimeout(answer, delayMs);
    s.timer.unref();
  }

  /** Closes every connection with SERVER_SHUTDOWN. */
  closeAll(): void {
    this.stopping = true;
    for (const s of this.all) closeSession(s, CLOSE_CODES.SERVER_SHUTDOWN, 'server shutting down');
    this.wss.close();
  }
}
