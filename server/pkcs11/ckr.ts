/**
 * The PKCS#11 return values the server sends (OASIS PKCS#11 v2.40 base specification §3.6),
 * and the mapping of server errors to them (docs/pkcs11.md "Errors").
 * @module
 */
import { CardStatusError } from '../../shared/card/status-words';
import { CardTransportError } from '../../core/card/transport';
import { CeremonyError } from '../ceremonies/context';
import { TargetError } from '../targets/target-error';

/** CK_RV values used on the socket (pkcs11/src/reply.c allows exactly these). */
export const CKR = {
  OK: 0x000,
  GENERAL_ERROR: 0x005,
  FUNCTION_FAILED: 0x006,
  ARGUMENTS_BAD: 0x007,
  DATA_INVALID: 0x020,
  DATA_LEN_RANGE: 0x021,
  DEVICE_ERROR: 0x030,
  DEVICE_REMOVED: 0x032,
  FUNCTION_CANCELED: 0x050,
  KEY_HANDLE_INVALID: 0x060,
  KEY_SIZE_RANGE: 0x062,
  KEY_TYPE_INCONSISTENT: 0x063,
  KEY_FUNCTION_NOT_PERMITTED: 0x068,
  MECHANISM_INVALID: 0x070,
  MECHANISM_PARAM_INVALID: 0x071,
  PIN_INCORRECT: 0x0a0,
  SLOT_ID_INVALID: 0x003,
  TOKEN_NOT_PRESENT: 0x0e0,
  TOKEN_NOT_RECOGNIZED: 0x0e1,
  USER_NOT_LOGGED_IN: 0x101,
  USER_PIN_NOT_INITIALIZED: 0x102,
  FUNCTION_REJECTED: 0x200,
} as const;

/** An error answered to the module with a specific CK_RV. */
export class Pkcs11Refusal extends Error {
  override readonly name = 'Pkcs11Refusal';
  constructor(
    readonly rv: number,
    message: string,
  ) {
    super(message);
  }
}

/** The CK_RV and one-line reason for an error raised while serving a request. */
export function refusalOf(e: unknown): { rv: number; message: string } {
  if (e instanceof Pkcs11Refusal) return { rv: e.rv, message: e.message };
  if (e instanceof TargetError) {
    const rv =
      e.code === 'locked'
        ? CKR.USER_NOT_LOGGED_IN
        : e.code === 'unavailable'
          ? CKR.TOKEN_NOT_PRESENT
          : e.code === 'invalid'
            ? CKR.KEY_HANDLE_INVALID
            : CKR.DEVICE_ERROR;
    return { rv, message: e.message };
  }
  if (e instanceof CeremonyError) {
    return {
      rv: e.code === 'not-pka' ? CKR.USER_PIN_NOT_INITIALIZED : CKR.FUNCTION_FAILED,
      message: e.message,
    };
  }
  if (e instanceof CardTransportError)
    return { rv: CKR.DEVICE_ERROR, message: `target: ${e.message}` };
  if (e instanceof CardStatusError) return { rv: CKR.DEVICE_ERROR, message: e.message };
  return { rv: CKR.GENERAL_ERROR, message: 'internal error (see the server log)' };
}
