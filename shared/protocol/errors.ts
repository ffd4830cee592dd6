/**
 * Typed errors of the wire protocol: parse failures, the `error` message codes and the
 * WebSocket close codes (4000 range, RFC 6455 §7.4.2 "private use").
 * @module
 */

/** Why a frame was rejected by a parser or could not be encoded. */
export type ProtocolErrorCode =
  | 'not-text'
  | 'frame-too-large'
  | 'bad-json'
  | 'not-object'
  | 'unsupported-version'
  | 'unknown-type'
  | 'invalid-message';

/** A rejected frame: code, a human message and, for schema violations, the failing fields. */
export type ProtocolError = {
  readonly code: ProtocolErrorCode;
  readonly message: string;
  /** `path: problem` lines for `invalid-message` (at most {@link MAX_REPORTED_ISSUES}). */
  readonly issues?: readonly string[];
};

/** How many schema issues a {@link ProtocolError} reports at most. */
export const MAX_REPORTED_ISSUES = 10;

/** Builds a {@link ProtocolError} (omits `issues` when there are none). */
export function protocolError(
  code: ProtocolErrorCode,
  message: string,
  issues: readonly string[] = [],
): ProtocolError {
  return issues.length > 0 ? { code, message, issues } : { code, message };
}

/** Codes of the `error` message (server → client). */
export const ERROR_CODES = [
  'invalid-message',
  'unsupported-version',
  'not-authenticated',
  'already-authenticated',
  'auth-failed',
  'unknown-ceremony',
  'unknown-offer',
  'offer-expired',
  'already-decided',
  'results-mismatch',
  'rate-limited',
  'internal-error',
] as const;

/** A code of the `error` message. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** WebSocket close codes used by both sides. */
export const CLOSE_CODES = {
  /** Normal end (RFC 6455). */
  NORMAL: 1000,
  /** Enrollment token or session credential rejected; do not retry with the same secret. */
  AUTH_FAILED: 4001,
  /** A frame broke the protocol (bad frame, schema, order); the peer's bug or an attack. */
  PROTOCOL_VIOLATION: 4002,
  /** A newer connection of the same custodian took over; do not reconnect automatically. */
  SUPERSEDED: 4003,
  /** The server is shutting down or restarting; reconnect with back-off. */
  SERVER_SHUTDOWN: 4004,
  /** Missed heartbeats (or no `hello` in time); reconnect with back-off. */
  HEARTBEAT_TIMEOUT: 4005,
  /** The peer speaks another protocol version; upgrade, do not retry. */
  UNSUPPORTED_VERSION: 4006,
  /** The custodian's enrollment was revoked by an administrator; do not retry. */
  REVOKED: 4007,
  /** A text frame was not valid UTF-8 (RFC 6455 §8.1; sent by the WebSocket layer, no `error`). */
  INVALID_PAYLOAD: 1007,
  /** Too many unauthenticated connections (per address or in total); reconnect with back-off. */
  TRY_AGAIN_LATER: 1013,
} as const;

const CLOSE_TEXT: Readonly<Record<number, string>> = {
  1000: 'closed normally',
  1007: 'invalid UTF-8 in a text frame',
  1013: 'server busy, try again later',
  4001: 'authentication failed',
  4002: 'protocol violation',
  4003: 'superseded by a newer session of the same custodian',
  4004: 'server shutting down',
  4005: 'heartbeat timeout',
  4006: 'unsupported protocol version',
  4007: 'enrollment revoked',
};

/** Close codes after which a client reconnects on its own (with back-off). */
const RETRYABLE: ReadonlySet<number> = new Set([1001, 1006, 1011, 1012, 1013, 4004, 4005]);

/** A human description of a close code, e.g. `4003 superseded by …`. */
export function describeCloseCode(code: number): string {
  return `${code} ${CLOSE_TEXT[code] ?? 'unknown close code'}`;
}

/** True when a client should reconnect automatically after this close code. */
export function shouldReconnect(code: number): boolean {
  return RETRYABLE.has(code);
}
