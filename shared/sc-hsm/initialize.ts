/**
 * INITIALIZE DEVICE `80 50 00 00` from validated options (docs/card-reference.md §3.4, §3.5, §6.3).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { concatBytes, writeUint } from '../codec/bytes';
import { encodeTlv } from '../codec/tlv';
import { err, ok, type Result } from '../result';
import { CLA, INIT_TAG, INS, OPTION } from './constants';
import { scHsmError, type ScHsmError } from './errors';
import { SO_PIN_LENGTH, encodeSoPin, validateUserPin } from './pin';

/** Largest number of PKA keys OpenSC accepts (docs/card-reference.md §3.4, tag `93`). */
export const MAX_PKA_KEYS = 90;
/** Retry counter range of CardContact tools (docs/card-reference.md §3.1). */
export const PIN_RETRIES = { min: 1, max: 10 } as const;

/** What INITIALIZE DEVICE sets up. */
export type InitializeOptions = {
  /** SO-PIN / initialization code: 16 hex digits or 8 bytes (tag `82`). */
  readonly soPin: string | Uint8Array;
  /** Initial user PIN, 6–16 bytes (tag `81`); omit for a PKA-only device. */
  readonly userPin?: Uint8Array;
  /** User-PIN retry counter, 1–10 (tag `91`); default 3 when a user PIN is set. */
  readonly retries?: number;
  /** Number of DKEK shares (tag `92`); 0 = random DKEK; omit for no DKEK. */
  readonly dkekShares?: number;
  /** PKA: `m` registered keys of which `n` must authenticate (tag `93`). */
  readonly pka?: { readonly m: number; readonly n: number };
  /** Option mask (tag `80`, bits in {@link OPTION}); default RESET RETRY COUNTER allowed. */
  readonly options?: number;
  /** Number of key-domain slots (tag `97`). */
  readonly keyDomains?: number;
};

const invalid = (message: string) => err(scHsmError('invalid-argument', message));
const isInt = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;

/** The largest retry counter CardContact tools allow for a PIN of this length (docs/card-reference.md §3.1). */
function maxRetriesForPin(pinLength: number): number {
  if (pinLength <= 6) return 3;
  if (pinLength === 7) return 5;
  return PIN_RETRIES.max;
}

/**
 * Builds `80 50 00 00 <80 options> [81 PIN] <82 SO-PIN> [91 retries] [92 shares] [93 m n]
 * [97 domains]` after checking every option (docs/card-reference.md §3.4). Without a user PIN the device
 * must be PKA-protected, and transport-PIN mode needs a PIN.
 */
export function initializeCommand(options: InitializeOptions): Result<CommandApdu, ScHsmError> {
  let soPin: Uint8Array;
  if (typeof options.soPin === 'string') {
    const r = encodeSoPin(options.soPin);
    if (!r.ok) return r;
    soPin = r.value;
  } else {
    if (options.soPin.length !== SO_PIN_LENGTH) {
      return invalid(`SO-PIN must be ${SO_PIN_LENGTH} bytes, got ${options.soPin.length}`);
    }
    soPin = options.soPin;
  }
  const mask = options.options ?? OPTION.RESET_RETRY_COUNTER;
  if (!isInt(mask, 0, 0xffff)) return invalid('option mask must be a 16-bit value');
  const parts: Uint8Array[] = [encodeTlv(INIT_TAG.OPTIONS, writeUint(mask, 2))];

  const pin = options.userPin;
  if (pin !== undefined) {
    const v = validateUserPin(pin, 'user PIN');
    if (!v.ok) return v;
    parts.push(encodeTlv(INIT_TAG.USER_PIN, pin));
  } else {
    if (options.pka === undefined) {
      return invalid('a user PIN is required unless the device uses public key authentication');
    }
    if ((mask & OPTION.TRANSPORT_PIN) !== 0) return invalid('transport-PIN mode needs a user PIN');
    if ((mask & OPTION.PKA_AND_PIN) !== 0) return invalid('"PKA and PIN" mode needs a user PIN');
  }
  parts.push(encodeTlv(INIT_TAG.INIT_CODE, soPin));

  if (options.retries !== undefined && pin === undefined) {
    return invalid('a retry counter is only meaningful with a user PIN');
  }
  if (pin !== undefined) {
    const retries = options.retries ?? 3;
    const cap = maxRetriesForPin(pin.length);
    if (!isInt(retries, PIN_RETRIES.min, cap)) {
      return invalid(
        `retry counter must be ${PIN_RETRIES.min}–${cap} for a ${pin.length}-character PIN`,
      );
    }
    parts.push(encodeTlv(INIT_TAG.PIN_RETRIES, Uint8Array.of(retries)));
  }
  if (options.dkekShares !== undefined) {
    if (!isInt(options.dkekShares, 0, 255)) return invalid('DKEK shares must be 0–255');
    parts.push(encodeTlv(INIT_TAG.DKEK_SHARES, Uint8Array.of(options.dkekShares)));
  }
  if (options.pka !== undefined) {
    const { m, n } = options.pka;
    if (!isInt(m, 1, MAX_PKA_KEYS)) return invalid(`PKA m (keys) must be 1–${MAX_PKA_KEYS}`);
    if (!isInt(n, 1, m)) return invalid(`PKA n (required) must be 1–${m}`);
    // docs/card-reference.md §3.4: `93 02 <m total> <n required>`.
    parts.push(encodeTlv(INIT_TAG.PKA, Uint8Array.of(m, n)));
  } else if ((mask & (OPTION.PKA_AND_PIN | OPTION.REPLACE_PKA)) !== 0) {
    return invalid('PKA options need pka: { m, n }');
  }
  if (options.keyDomains !== undefined) {
    if (!isInt(options.keyDomains, 1, 255)) return invalid('key domains must be 1–255');
    parts.push(encodeTlv(INIT_TAG.KEY_DOMAINS, Uint8Array.of(options.keyDomains)));
  }
  return ok(command(CLA.PROPRIETARY, INS.INITIALIZE, 0x00, 0x00, concatBytes(...parts)));
}
