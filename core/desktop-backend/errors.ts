/**
 * Every failure of the engine, the card or the network mapped to the error codes the desktop
 * app shows in words (shared/ipc/errors.ts). Messages are technical detail for the "details"
 * disclosure; they never contain a PIN (the engine never puts one into a message).
 * @module
 */
import { CardStatusError, SW, describeSw } from '../../shared/card/status-words';
import { ipcError, type IpcError, type IpcErrorCode } from '../../shared/ipc/errors';
import { CardTransportError, type CardTransportErrorCode } from '../card/transport';
import type { ApproveResult } from '../custodian/engine';
import { messageOf } from '../../shared/error-message';

const TRANSPORT: Readonly<Record<CardTransportErrorCode, IpcErrorCode>> = {
  'no-service': 'no-reader',
  'no-native-module': 'unavailable',
  'no-reader': 'no-reader',
  'no-card': 'no-card',
  'card-removed': 'card-removed',
  'not-sc-hsm': 'not-sc-hsm',
  timeout: 'card-busy',
  'sharing-violation': 'card-busy',
  // "Removed" only when PC/SC saw the removal (core/pcsc/pcsc-card.ts upgrades an I/O failure
  // to card-removed then); otherwise the reader view still says "card inserted", and saying
  // "removed" would contradict it (docs/desktop-app.md "States").
  closed: 'card-no-answer',
  protocol: 'card-no-answer',
  io: 'card-no-answer',
};

/** The IPC code of a transport failure. */
export function transportCode(code: CardTransportErrorCode): IpcErrorCode {
  return TRANSPORT[code];
}

/** Maps anything thrown by card code to an IPC error (never rethrows). */
export function cardFailure(e: unknown, what: string): IpcError {
  if (e instanceof CardTransportError) return ipcError(transportCode(e.code), e.message);
  if (e instanceof CardStatusError) {
    // docs/card-reference.md §3.1: 6983 = PIN blocked, 63Cx = wrong PIN with x tries left.
    if (e.sw === SW.AUTH_METHOD_BLOCKED) return ipcError('pin-blocked', `${what}: PIN blocked`, 0);
    return ipcError('internal', `${what}: ${e.operation}: ${describeSw(e.sw)}`);
  }
  return ipcError('internal', `${what}: ${messageOf(e)}`);
}

/** Maps the engine's approval outcome (other than `approved`) to an IPC error. */
export function approvalFailure(result: Exclude<ApproveResult, { kind: 'approved' }>): IpcError {
  switch (result.kind) {
    case 'pin-wrong':
      return ipcError('pin-wrong', 'the card did not accept the PIN', result.retries);
    case 'pin-blocked':
      return ipcError('pin-blocked', 'the custodian PIN is blocked; the offer was declined', 0);
    case 'needs-last-try-confirmation':
      return ipcError('pin-last-try', 'one PIN try left; confirm to use it');
    case 'pin-cancelled':
      // The engine checks the PIN length before the card sees it (no try is spent).
      if (/6 to 16/.test(result.message)) return ipcError('pin-format', result.message);
      return ipcError(
        /timeout/.test(result.message) ? 'pin-timeout' : 'pin-cancelled',
        result.message,
      );
    case 'key-mismatch':
      return ipcError('no-key', result.message);
    case 'card-error':
      // The outcome carries its own transport failure (card removed, busy …) as the cause.
      return ipcError(result.cause ? transportCode(result.cause.code) : 'internal', result.message);
    case 'offer-changed':
      return ipcError('offer-changed', result.message);
    case 'refused':
      // The engine had no pending offer (decided or ended meanwhile).
      if (result.message.startsWith('no pending offer'))
        return ipcError('ceremony-closed', result.message);
      return ipcError(refusedCode(result.reason), result.message);
  }
}

/** The code of a refusal before the card was touched, from the re-check's rejection code. */
function refusedCode(reason: string | undefined): IpcErrorCode {
  switch (reason) {
    case undefined:
      return 'internal'; // the audit log could not be written: the card was not touched
    case 'expired':
    case 'expiry-too-far':
      return 'ceremony-expired';
    case 'chain-invalid':
    case 'untrusted-anchor':
    case 'device-mismatch':
      return 'chain-invalid';
    default:
      return 'ceremony-closed';
  }
}
