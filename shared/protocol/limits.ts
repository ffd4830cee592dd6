/**
 * Wire protocol constants: version, size limits, heartbeat. Every limit is enforced by the
 * parsers in this folder and documented in docs/protocol.md.
 * @module
 */

/** The protocol version every frame carries as `"v"`. */
export const PROTOCOL_VERSION = 1;

/** WebSocket subprotocol name both sides offer and require (`Sec-WebSocket-Protocol`). */
export const PROTOCOL_NAME = 'custodian.v1';

/** Size and count limits (bytes are decoded bytes; hex fields are twice as long). */
export const LIMITS = {
  /** Largest frame in UTF-8 bytes (text frames only). */
  frameBytes: 64 * 1024,
  /** Largest command APDU in a script (a SIGN of a 16-byte CHR ‖ 8-byte challenge is 30). */
  commandApduBytes: 512,
  /** Smallest command APDU (the 4 header bytes). */
  commandApduMinBytes: 4,
  /** Largest response APDU including SW1 SW2 (EF 2F02 and CA certificates fit comfortably). */
  responseApduBytes: 4096,
  /** APDUs per script (one approval). */
  scriptApdus: 16,
  /** Largest target EF 2F02 (device CVC ‖ DICA CVC, typically under 1 KiB). */
  chainBytes: 4096,
  /** Largest .pka file (request + device CVC + DICA CVC, typically about 1.3 KiB). */
  pkaBytes: 8192,
  /**
   * Challenge length: exactly 8, as on genuine devices (docs/card-reference.md §13.4); one length keeps
   * `CHR(T) ‖ challenge` unambiguous (shared/sc-hsm/pka-input.ts `PKA_CHALLENGE_BYTES`).
   */
  challengeMinBytes: 8,
  challengeMaxBytes: 8,
  /** CHR length (docs/card-reference.md §4.1, §6.2). */
  chrMaxChars: 16,
  /** Opaque identifiers: ceremonyId, offerId, custodianId, nonce. */
  idMaxChars: 64,
  /** Enrollment tokens and session credentials (base64url alphabet). */
  secretMinChars: 22,
  secretMaxChars: 256,
  /** Display texts (UTF-16 code units). */
  labelChars: 100,
  nameChars: 100,
  /** A server's display name (`welcome.serverName`, invitations). */
  serverNameChars: 64,
  requesterChars: 200,
  purposeChars: 500,
  reasonChars: 500,
  messageChars: 500,
  /** Quorum bounds: m and n are single bytes in `93 02 <m> <n>` (docs/card-reference.md §6.3). */
  quorumMax: 255,
} as const;

/** Heartbeat and timing rules. */
export const HEARTBEAT = {
  /** Interval the server announces in `welcome` unless configured otherwise. */
  defaultSeconds: 15,
  /** Bounds of the announced interval. */
  minSeconds: 5,
  maxSeconds: 120,
  /** A peer that missed this many intervals in a row is dead. */
  missedLimit: 3,
  /** The server closes a connection that sent no `hello` within this time. */
  helloTimeoutSeconds: 10,
} as const;

/** Reconnect back-off of the client (first delay, cap; full jitter). */
export const RECONNECT = { initialMs: 1000, maxMs: 60_000 } as const;
