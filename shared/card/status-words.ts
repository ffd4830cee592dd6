/**
 * Status words of the SmartCard-HSM (docs/card-reference.md §9) with names and a typed error.
 * @module
 */

/** Named status words (docs/card-reference.md §9; ISO/IEC 7816-4 §5.6). */
export const SW = {
  OK: 0x9000,
  PKA_KEY_AUTHENTICATED: 0x9001,
  END_OF_FILE: 0x6282,
  WRONG_LENGTH: 0x6700,
  COMMAND_INCOMPATIBLE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  DATA_INVALID: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED: 0x6986,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_P1P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  COMMAND_NOT_ALLOWED_NO_EF: 0x6900,
  INTERNAL_ERROR: 0x6f00,
} as const;

const NAMES: Readonly<Record<number, string>> = {
  0x9000: 'success',
  0x9001: 'PKA key authenticated',
  0x6282: 'end of file reached before Le bytes',
  0x6700: 'wrong length',
  0x6900: 'command not allowed',
  0x6981: 'command incompatible with file structure',
  0x6982: 'security status not satisfied',
  0x6983: 'authentication method blocked',
  0x6984: 'reference data not usable (transport PIN, key use counter, invalid data)',
  0x6985: 'conditions of use not satisfied',
  0x6986: 'command not allowed',
  0x6a80: 'incorrect data',
  0x6a81: 'function not supported',
  0x6a82: 'file or key not found',
  0x6a84: 'not enough memory',
  0x6a86: 'incorrect P1/P2',
  0x6a88: 'referenced data not found',
  0x6b00: 'wrong parameters P1/P2',
  0x6d00: 'instruction not supported',
  0x6e00: 'class not supported',
  0x6f00: 'internal error',
};

/** Formats a status word as four hex digits, e.g. `6A88`. */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** Retries left for `63Cx`, else undefined. */
export function retriesFromSw(sw: number): number | undefined {
  return (sw & 0xfff0) === 0x63c0 ? sw & 0x0f : undefined;
}

/** A human description of a status word, e.g. `6A88 referenced data not found`. */
export function describeSw(sw: number): string {
  const retries = retriesFromSw(sw);
  if (retries !== undefined) return `${swHex(sw)} verification failed, ${retries} tries left`;
  if ((sw & 0xff00) === 0x6100) return `${swHex(sw)} ${sw & 0xff} more bytes available`;
  if ((sw & 0xff00) === 0x6c00) return `${swHex(sw)} wrong Le, ${sw & 0xff} expected`;
  return `${swHex(sw)} ${NAMES[sw] ?? 'unknown status'}`;
}

/** A card answered with a status word the caller did not accept. */
export class CardStatusError extends Error {
  override readonly name = 'CardStatusError';
  constructor(
    /** The status word the card returned. */
    readonly sw: number,
    /** What was being done, e.g. "VERIFY PIN". */
    readonly operation: string,
  ) {
    super(`${operation} failed: ${describeSw(sw)}`);
  }
}
