/**
 * The pcsclite calls on one reader handle, each bounded by a deadline (core/pcsc/timeout.ts)
 * and with its failure mapped to a {@link CardTransportError} (core/pcsc/pcsc-errors.ts). They
 * keep no state: what a failure means for the connection (broken, closed, a removed card) is
 * decided by the card (core/pcsc/pcsc-card.ts).
 * @module
 */
import type { Disposition } from '../card/transport';
import { mapPcscError } from './pcsc-errors';
import type { PcscliteReader } from './pcsclite-types';
import { fromCallback, withTimeout } from './timeout';

/** How the card may be shared with other applications. */
export type ShareMode = 'shared' | 'exclusive';

/** Largest R-APDU: 65536 data bytes + SW (ISO/IEC 7816-3 §12.1.3). */
const MAX_RESPONSE = 65538;
/** Largest reader control answer accepted. */
const MAX_CONTROL_RESPONSE = 65536;

/** One native call, bounded by `timeoutMs`, its failure mapped to a CardTransportError. */
async function call<T>(
  start: Parameters<typeof fromCallback<T>>[0],
  timeoutMs: number,
  what: string,
): Promise<T> {
  try {
    return await withTimeout(fromCallback<T>(start), timeoutMs, what);
  } catch (e) {
    throw mapPcscError(e, what);
  }
}

/** Connects to `r`; resolves with the negotiated protocol. */
export async function connectReader(
  r: PcscliteReader,
  share: ShareMode,
  timeoutMs: number,
): Promise<number> {
  const share_mode = share === 'exclusive' ? r.SCARD_SHARE_EXCLUSIVE : r.SCARD_SHARE_SHARED;
  const protocol = r.SCARD_PROTOCOL_T0 | r.SCARD_PROTOCOL_T1;
  return call<number>(
    (cb) => r.connect({ share_mode, protocol }, cb),
    timeoutMs,
    `connect to "${r.name}"`,
  );
}

/**
 * Sends one APDU and resolves with the raw answer. The native call gets its own copy of `apdu`,
 * which may hold a PIN or a key: it is wiped once the call has ended. Failures are thrown as
 * they come (unmapped), so the caller can tell a removed card from other I/O errors.
 */
export async function transmitRaw(
  r: PcscliteReader,
  apdu: Uint8Array,
  protocol: number,
  timeoutMs: number,
  what: string,
): Promise<Buffer> {
  const out = Buffer.from(apdu);
  try {
    return await withTimeout(
      fromCallback<Buffer>((cb) => r.transmit(out, MAX_RESPONSE, protocol, cb)),
      timeoutMs,
      what,
    );
  } finally {
    out.fill(0);
  }
}

/** Sends a reader control command (SCardControl) and resolves with its answer. */
export async function controlReader(
  r: PcscliteReader,
  code: number,
  data: Uint8Array,
  timeoutMs: number,
  what: string,
): Promise<Uint8Array> {
  const out = await call<Buffer>(
    (cb) => r.control(Buffer.from(data), code, MAX_CONTROL_RESPONSE, cb),
    timeoutMs,
    what,
  );
  return new Uint8Array(out);
}

/** Disconnects the handle, leaving the card as the pcsclite `disposition` code says. */
export async function disconnectReader(
  r: PcscliteReader,
  disposition: number,
  timeoutMs: number,
  what: string,
): Promise<void> {
  return call<void>((cb) => r.disconnect(disposition, cb), timeoutMs, what);
}

/** The pcsclite code of a {@link Disposition}. */
export function dispositionCode(r: PcscliteReader, disposition: Disposition): number {
  if (disposition === 'leave') return r.SCARD_LEAVE_CARD;
  if (disposition === 'unpower') return r.SCARD_UNPOWER_CARD;
  return r.SCARD_RESET_CARD;
}
