/**
 * One custodian connection of the hub (./ws-hub): its state, and how frames, errors, closes
 * and heartbeats go out on it (docs/protocol.md §3, §5.5, §10).
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  CLOSE_CODES,
  HEARTBEAT,
  PROTOCOL_VERSION,
  encodeServerMessage,
  type ErrorCode,
  type ServerMessage,
} from '../../shared/protocol';
import { safeErrorText } from './safe-text';

/** A connection and what the hub knows about it. */
export type Session = {
  readonly ws: WebSocket;
  /** The client address (./admission `clientAddress`). */
  readonly ip: string;
  /** Holds one of the address's unauthenticated slots until welcome or close. */
  admitted: boolean;
  /** Waits for a delayed `auth-failed` (holds a refusal slot of ./admission). */
  deferred: boolean;
  custodianId: string | undefined;
  helloSeen: boolean;
  pendingPing: string | undefined;
  missed: number;
  timer: NodeJS.Timeout | undefined;
};

/** A fresh, unauthenticated session. */
export function newSession(ws: WebSocket, ip: string): Session {
  return {
    ws,
    ip,
    admitted: false,
    deferred: false,
    custodianId: undefined,
    helloSeen: false,
    pendingPing: undefined,
    missed: 0,
    timer: undefined,
  };
}

/**
 * Sends `message`. A message the schema refuses is a server bug; it is dropped (never sent
 * half-valid) and must not break the caller's state change.
 */
export function writeFrame(s: Session, message: ServerMessage): boolean {
  const text = encodeFrame(message);
  return text !== undefined && writeText(s, text);
}

/**
 * The wire text of `message`, validated against the protocol schema; undefined (and one line on
 * stderr) when the server built an invalid message, which is then never sent.
 */
function encodeFrame(message: ServerMessage): string | undefined {
  const text = encodeServerMessage(message);
  if (text.ok) return text.value;
  process.stderr.write(
    `custodian-server: dropped an invalid ${message.type}: ${text.error.message}\n`,
  );
  return undefined;
}

/** Sends text already encoded by {@link encodeFrame}; false when the socket is not open. */
function writeText(s: Session, text: string): boolean {
  if (s.ws.readyState !== s.ws.OPEN) return false;
  s.ws.send(text);
  return true;
}

/** Sends one message to every given session (absent ones skipped), validated and encoded once. */
export function writeFrameToAll(
  sessions: readonly (Session | undefined)[],
  message: ServerMessage,
): void {
  const open = sessions.filter((s): s is Session => s !== undefined);
  const text = open.length === 0 ? undefined : encodeFrame(message);
  if (text !== undefined) for (const s of open) writeText(s, text);
}

/**
 * Sends `error`. The text is made valid display text first: a parser message quoting hostile
 * input must not make the encoder drop the frame (issue 11 item 6).
 */
export function sendError(s: Session, code: ErrorCode, message: string): void {
  writeFrame(s, { v: PROTOCOL_VERSION, type: 'error', code, message: safeErrorText(message) });
}

/** Closes with `code` (the reason fits the 123-byte close frame). */
export function closeSession(s: Session, code: number, reason: string): void {
  if (s.timer) clearTimeout(s.timer);
  s.timer = undefined;
  s.ws.close(code, reason.slice(0, 120));
}

/** Pings every `seconds`; closes 4005 after {@link HEARTBEAT.missedLimit} unanswered pings. */
export function scheduleHeartbeat(s: Session, seconds: number): void {
  s.timer = setTimeout(() => {
    if (s.pendingPing !== undefined) s.missed++;
    if (s.missed >= HEARTBEAT.missedLimit)
      return closeSession(s, CLOSE_CODES.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
    s.pendingPing = randomBytes(8).toString('hex');
    writeFrame(s, { v: PROTOCOL_VERSION, type: 'ping', nonce: s.pendingPing });
    scheduleHeartbeat(s, seconds);
  }, seconds * 1000);
  s.timer.unref();
}
