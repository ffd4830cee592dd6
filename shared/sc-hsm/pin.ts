/**
 * VERIFY / CHANGE REFERENCE DATA for the user PIN and the SO-PIN, and the PIN status model
 * derived from the status word of a VERIFY status query (docs/card-reference.md §3.1, §3.2, §13.1).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { concatBytes, isHex } from '../codec/bytes';
import { SW, retriesFromSw, swHex } from '../card/status-words';
import { err, ok, type Result } from '../result';
import { CLA, INS, PIN_REF } from './constants';
import { scHsmError, type ScHsmError } from './errors';

/** Shortest and longest user PIN (docs/card-reference.md §3.1: 6–16 characters). */
export const USER_PIN_LENGTH = { min: 6, max: 16 } as const;
/** The SO-PIN / initialization code is 8 binary bytes (docs/card-reference.md §3.2). */
export const SO_PIN_LENGTH = 8;

/** What the VERIFY status query says about a PIN. */
export type PinState =
  'verified' | 'not-verified' | 'blocked' | 'transport-pin' | 'not-initialized' | 'pka-active';

/** PIN status: state and, for `not-verified`/`blocked`, the tries left. */
export type PinStatus = { readonly state: PinState; readonly retries?: number };

/**
 * Status words that a status query answers only for reasons other than PIN state (wrong
 * applet, wrong command, …). Everything not listed and not mapped below is what OpenSC reports
 * as "Public key authentication active" (docs/card-reference.md §3.1, §13.1: exact genuine SW unknown).
 */
const NOT_A_PIN_STATE: ReadonlySet<number> = new Set([
  SW.WRONG_LENGTH,
  SW.COMMAND_NOT_ALLOWED_NO_EF,
  SW.SECURITY_STATUS_NOT_SATISFIED,
  SW.CONDITIONS_NOT_SATISFIED,
  SW.COMMAND_NOT_ALLOWED,
  SW.WRONG_DATA,
  SW.FUNCTION_NOT_SUPPORTED,
  SW.FILE_NOT_FOUND,
  SW.INCORRECT_P1P2,
  SW.WRONG_P1P2,
  SW.INS_NOT_SUPPORTED,
  SW.CLA_NOT_SUPPORTED,
]);

/**
 * Maps the SW of `00 20 00 81` / `00 20 00 88` without data to a {@link PinStatus}
 * (docs/card-reference.md §3.1). `63C0` counts as blocked. Unknown words mean PKA is active (§13.1); words
 * that belong to other failures (e.g. `6E00` applet not selected) are errors.
 */
export function pinStatusFromSw(sw: number): Result<PinStatus, ScHsmError> {
  if (sw === SW.OK) return ok({ state: 'verified' });
  const retries = retriesFromSw(sw);
  if (retries !== undefined) {
    return ok(
      retries === 0 ? { state: 'blocked', retries: 0 } : { state: 'not-verified', retries },
    );
  }
  if (sw === SW.AUTH_METHOD_BLOCKED) return ok({ state: 'blocked', retries: 0 });
  if (sw === SW.DATA_INVALID) return ok({ state: 'transport-pin' });
  if (sw === SW.REFERENCED_DATA_NOT_FOUND) return ok({ state: 'not-initialized' });
  if (NOT_A_PIN_STATE.has(sw) || (sw & 0xff00) === 0x6100 || (sw & 0xff00) === 0x6c00) {
    return err(scHsmError('unexpected-sw', `PIN status query answered ${swHex(sw)}`));
  }
  return ok({ state: 'pka-active' });
}

/** `00 20 00 81`: user PIN status query, no data (docs/card-reference.md §3.1). */
export function pinStatusCommand(): CommandApdu {
  return command(CLA.ISO, INS.VERIFY, 0x00, PIN_REF.USER);
}

/** `00 20 00 88`: SO-PIN (initialization code) status query, no data (docs/card-reference.md §3.1). */
export function soPinStatusCommand(): CommandApdu {
  return command(CLA.ISO, INS.VERIFY, 0x00, PIN_REF.SO);
}

/** Checks a user PIN's length (6–16 bytes, docs/card-reference.md §3.1). */
export function validateUserPin(pin: Uint8Array, what = 'PIN'): Result<Uint8Array, ScHsmError> {
  if (pin.length < USER_PIN_LENGTH.min || pin.length > USER_PIN_LENGTH.max) {
    return err(
      scHsmError(
        'invalid-argument',
        `${what} must be ${USER_PIN_LENGTH.min}–${USER_PIN_LENGTH.max} characters, got ${pin.length}`,
      ),
    );
  }
  return ok(pin);
}

/**
 * `00 20 00 81 Lc <PIN>`: verify the user PIN. The command holds a copy of the PIN; callers wipe
 * both the PIN and `command.data` after sending.
 */
export function verifyPinCommand(pin: Uint8Array): Result<CommandApdu, ScHsmError> {
  const v = validateUserPin(pin);
  if (!v.ok) return v;
  return ok(command(CLA.ISO, INS.VERIFY, 0x00, PIN_REF.USER, pin.slice()));
}

/**
 * `00 24 00 81 Lc <old ‖ new>`: change the user PIN, also how a transport PIN is replaced
 * (docs/card-reference.md §3.2). The card knows the old PIN's length, so there is no separator.
 */
export function changePinCommand(
  oldPin: Uint8Array,
  newPin: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  const o = validateUserPin(oldPin, 'current PIN');
  if (!o.ok) return o;
  const n = validateUserPin(newPin, 'new PIN');
  if (!n.ok) return n;
  return ok(
    command(CLA.ISO, INS.CHANGE_REFERENCE_DATA, 0x00, PIN_REF.USER, concatBytes(oldPin, newPin)),
  );
}

/** `00 24 00 88 10 <old SO-PIN ‖ new SO-PIN>` (8 + 8 bytes, docs/card-reference.md §3.2). */
export function changeSoPinCommand(
  oldSoPin: Uint8Array,
  newSoPin: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  if (oldSoPin.length !== SO_PIN_LENGTH || newSoPin.length !== SO_PIN_LENGTH) {
    return err(scHsmError('invalid-argument', `SO-PINs must be ${SO_PIN_LENGTH} bytes each`));
  }
  return ok(
    command(CLA.ISO, INS.CHANGE_REFERENCE_DATA, 0x00, PIN_REF.SO, concatBytes(oldSoPin, newSoPin)),
  );
}

/**
 * Encodes an SO-PIN given as 16 hex characters into its 8 binary bytes (docs/card-reference.md §3.2). Only
 * hex digits are accepted, so `"57621880"` (8 ASCII chars) is refused rather than misread.
 */
export function encodeSoPin(text: string): Result<Uint8Array, ScHsmError> {
  if (text.length !== 2 * SO_PIN_LENGTH || !isHex(text)) {
    return err(scHsmError('invalid-argument', 'SO-PIN must be exactly 16 hexadecimal digits'));
  }
  const out = new Uint8Array(SO_PIN_LENGTH);
  for (let i = 0; i < SO_PIN_LENGTH; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return ok(out);
}
