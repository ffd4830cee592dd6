/**
 * Maps PC/SC return codes (as embedded in pcsclite's error messages) to {@link CardTransportError}
 * codes with messages a person can act on.
 * @module
 */
import { CardTransportError, type CardTransportErrorCode } from '../card/transport';

/** PC/SC return codes this adapter distinguishes (pcsc-lite `pcsclite.h`). */
export const SCARD = {
  E_CANCELLED: 0x80100002,
  E_INVALID_HANDLE: 0x80100003,
  E_INSUFFICIENT_BUFFER: 0x80100008,
  E_UNKNOWN_READER: 0x80100009,
  E_TIMEOUT: 0x8010000a,
  E_SHARING_VIOLATION: 0x8010000b,
  E_NO_SMARTCARD: 0x8010000c,
  E_PROTO_MISMATCH: 0x8010000f,
  E_NOT_READY: 0x80100010,
  F_COMM_ERROR: 0x80100013,
  E_NOT_TRANSACTED: 0x80100016,
  E_READER_UNAVAILABLE: 0x80100017,
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  E_UNSUPPORTED_FEATURE: 0x8010001f,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  E_UNSUPPORTED_FEATURE_2: 0x80100022,
  W_UNRESPONSIVE_CARD: 0x80100066,
  W_UNPOWERED_CARD: 0x80100067,
  W_RESET_CARD: 0x80100068,
  W_REMOVED_CARD: 0x80100069,
} as const;

/** The message for a missing native module (task brief wording, kept stable for docs). */
export const NO_NATIVE_MODULE_MESSAGE =
  'pcsclite could not be loaded: install libpcsclite-dev and run npm ci';
/** The message for an absent PC/SC daemon. */
export const NO_SERVICE_MESSAGE = 'PC/SC service not available: start pcscd';

/** Text for a thrown non-Error (String() itself throws for null-prototype objects). */
function describeUnknown(e: unknown): string {
  try {
    return String(e);
  } catch {
    return Object.prototype.toString.call(e);
  }
}

/** Extracts the PC/SC return code from a pcsclite error message (`…(0x8010000c)`). */
export function pcscReturnCode(e: unknown): number | undefined {
  const text = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
  const m = /\(0x([0-9a-f]{1,8})\)\s*$/i.exec(text);
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 16);
}

const table: ReadonlyMap<number, readonly [CardTransportErrorCode, string]> = new Map([
  [SCARD.E_NO_SERVICE, ['no-service', NO_SERVICE_MESSAGE]],
  [SCARD.E_SERVICE_STOPPED, ['no-service', 'PC/SC service stopped: restart pcscd']],
  [SCARD.E_NO_READERS_AVAILABLE, ['no-reader', 'no smart-card reader is connected']],
  [SCARD.E_UNKNOWN_READER, ['no-reader', 'the reader is not known to pcscd (unplugged?)']],
  [SCARD.E_READER_UNAVAILABLE, ['no-reader', 'the reader is not available (unplugged?)']],
  [SCARD.E_NO_SMARTCARD, ['no-card', 'no card in the reader']],
  [SCARD.W_REMOVED_CARD, ['card-removed', 'the card was removed']],
  // A reset by another application loses PIN/PKA state just like a removal: the caller must
  // start over, so it is reported as card-removed (docs/card-reference.md §6.7, §10).
  [SCARD.W_RESET_CARD, ['card-removed', 'the card was reset by another application']],
  [SCARD.W_UNPOWERED_CARD, ['card-removed', 'the card was powered down']],
  [SCARD.W_UNRESPONSIVE_CARD, ['io', 'the card does not respond (mute card)']],
  [
    SCARD.E_SHARING_VIOLATION,
    ['sharing-violation', 'another application holds the card exclusively'],
  ],
  [SCARD.E_TIMEOUT, ['timeout', 'PC/SC timed out']],
  [SCARD.E_PROTO_MISMATCH, ['protocol', 'the card does not speak the requested protocol']],
  [SCARD.E_INSUFFICIENT_BUFFER, ['protocol', 'the response did not fit the buffer']],
  [SCARD.E_UNSUPPORTED_FEATURE, ['protocol', 'the reader does not support this feature']],
  [SCARD.E_UNSUPPORTED_FEATURE_2, ['protocol', 'the reader does not support this feature']],
  [SCARD.E_INVALID_HANDLE, ['closed', 'the card connection is no longer valid']],
  [SCARD.E_CANCELLED, ['closed', 'the operation was cancelled']],
  [SCARD.F_COMM_ERROR, ['io', 'communication error with the reader']],
  [SCARD.E_NOT_TRANSACTED, ['io', 'the reader could not complete the exchange']],
  [SCARD.E_NOT_READY, ['io', 'the reader is not ready']],
]);

/**
 * Converts anything pcsclite threw or passed to a callback into a CardTransportError. `operation`
 * names what was attempted (e.g. `connect to "Virtual PCD 00 00"`); it leads the message.
 */
export function mapPcscError(e: unknown, operation: string): CardTransportError {
  if (e instanceof CardTransportError) return e;
  const code = pcscReturnCode(e);
  const hex = code === undefined ? '' : ` (PC/SC 0x${code.toString(16).padStart(8, '0')})`;
  const known = code === undefined ? undefined : table.get(code);
  if (known !== undefined) {
    const [kind, text] = known;
    const message = kind === 'no-service' ? text : `${operation}: ${text}${hex}`;
    return new CardTransportError(kind, message, { cause: e });
  }
  const detail = e instanceof Error ? e.message : describeUnknown(e);
  return new CardTransportError('io', `${operation}: ${detail}`, { cause: e });
}
