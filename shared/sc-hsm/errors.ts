/**
 * The typed error of SmartCard-HSM command builders and response parsers.
 * @module
 */

/** Why a command could not be built or a response not be understood. */
export type ScHsmErrorCode =
  /** A caller-supplied value is out of range (PIN length, key id, m/n, …). */
  | 'invalid-argument'
  /** The card's answer does not have the documented shape. */
  | 'malformed-response'
  /** The card answered with a status word this operation does not expect. */
  | 'unexpected-sw';

/** A builder/parser failure with a message a person can act on. */
export type ScHsmError = {
  readonly code: ScHsmErrorCode;
  readonly message: string;
};

/** Creates an {@link ScHsmError}. */
export function scHsmError(code: ScHsmErrorCode, message: string): ScHsmError {
  return { code, message };
}

/** Throws a RangeError unless `value` is an integer in `[min, max]` (for programmer-supplied numbers). */
export function assertInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

/** Throws a RangeError unless `fid` is a 2-byte file identifier. */
export function assertFid(fid: number): void {
  assertInt('file id', fid, 0, 0xffff);
}
