/**
 * FEATURE_VERIFY_PIN_DIRECT (PC/SC part 10 §2.5.2): the reader's PIN pad collects the PIN and
 * inserts it into the VERIFY APDU itself, so the PIN never reaches the host. Builds the
 * PIN_VERIFY_STRUCTURE for the SmartCard-HSM user PIN (docs/card-reference.md §3.1: ASCII, 6–16 characters,
 * `00 20 00 81`) and maps the reader's answer.
 * @module
 */
import { retriesFromSw } from '../../shared/card/status-words';
import { err, ok, type Result } from '../../shared/result';
import { CLA, INS, PIN_REF } from '../../shared/sc-hsm/constants';
import { USER_PIN_LENGTH } from '../../shared/sc-hsm/pin';
import { FEATURE, readFeatures, type ControlPort, type PinpadError } from './features';

/** Options for the PIN-pad entry. */
export type VerifyPinDirectOptions = {
  /** Seconds the reader waits for the first key (0 = reader default). */
  readonly timeoutSeconds?: number;
  /** Shortest PIN the reader accepts (default 6, docs/card-reference.md §3.1). */
  readonly minLength?: number;
  /** Longest PIN the reader accepts (default 16, docs/card-reference.md §3.1). */
  readonly maxLength?: number;
  /** Language of the reader's prompts (default 0x0409, English). */
  readonly langId?: number;
};

/** bmFormatString: units in bytes (bit 7), PIN at offset 0 of the data, left-justified, ASCII (type 10b). */
const FORMAT_ASCII_BYTES = 0x82;
/** bEntryValidationCondition: the user confirms with the OK/validation key. */
const VALIDATE_WITH_KEY = 0x02;

/**
 * Builds PIN_VERIFY_STRUCTURE (multi-byte fields little-endian, packed). The APDU template is
 * `00 20 00 81 00`: no PIN bytes; with a zero block size the reader inserts the entered PIN and
 * sets Lc to its length (variable-length ASCII, as the SmartCard-HSM expects, docs/card-reference.md §3.1).
 */
export function buildVerifyPinDirect(
  options: VerifyPinDirectOptions = {},
): Result<Uint8Array, PinpadError> {
  const min = options.minLength ?? USER_PIN_LENGTH.min;
  const max = options.maxLength ?? USER_PIN_LENGTH.max;
  const timeout = options.timeoutSeconds ?? 0;
  const lang = options.langId ?? 0x0409;
  if (
    !Number.isInteger(min) ||
    !Number.isInteger(max) ||
    min < USER_PIN_LENGTH.min ||
    max > USER_PIN_LENGTH.max ||
    min > max
  ) {
    return err({
      code: 'bad-argument',
      message: `PIN length range must lie within ${USER_PIN_LENGTH.min}–${USER_PIN_LENGTH.max}, got ${min}–${max}`,
    });
  }
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > 0xff) {
    return err({ code: 'bad-argument', message: `timeout must be 0–255 seconds, got ${timeout}` });
  }
  if (!Number.isInteger(lang) || lang < 0 || lang > 0xffff) {
    return err({ code: 'bad-argument', message: 'language id must be a 16-bit value' });
  }
  const apdu = [CLA.ISO, INS.VERIFY, 0x00, PIN_REF.USER, 0x00];
  const head = [
    timeout, // bTimerOut
    timeout, // bTimerOut2
    FORMAT_ASCII_BYTES, // bmFormatString
    0x00, // bmPINBlockString: no length field, variable block
    0x00, // bmPINLengthFormat
    max, // wPINMaxExtraDigit, low byte: maximum
    min, // wPINMaxExtraDigit, high byte: minimum
    VALIDATE_WITH_KEY, // bEntryValidationCondition
    0x01, // bNumberMessage
    lang & 0xff, // wLangId
    lang >> 8,
    0x00, // bMsgIndex
    0x00, // bTeoPrologue[3] (T=1 only, filled by the driver)
    0x00,
    0x00,
    apdu.length, // ulDataLength, 32-bit little-endian
    0x00,
    0x00,
    0x00,
  ];
  return ok(Uint8Array.from([...head, ...apdu]));
}

/** What a PIN verification (typed or on the PIN pad) ended with. */
export type PinOutcome =
  | { readonly kind: 'verified' }
  | { readonly kind: 'wrong-pin'; readonly retries: number }
  | { readonly kind: 'blocked' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'bad-length' }
  | { readonly kind: 'card-error'; readonly sw: number };

/**
 * Maps the status word of a PIN verification. `64 00`/`64 01`/`64 03` are the reader's own
 * answers (PC/SC part 10 §2.5.2: timeout, cancel, PIN length out of range); the rest come from
 * the card (docs/card-reference.md §3.1: `63Cx` wrong with x tries left, `6983` blocked, `6A80` bad length).
 */
export function pinOutcomeFromSw(sw: number): PinOutcome {
  if (sw === 0x9000) return { kind: 'verified' };
  const retries = retriesFromSw(sw);
  if (retries !== undefined)
    return retries === 0 ? { kind: 'blocked' } : { kind: 'wrong-pin', retries };
  switch (sw) {
    case 0x6983:
      return { kind: 'blocked' };
    case 0x6400:
      return { kind: 'timeout' };
    case 0x6401:
      return { kind: 'cancelled' };
    case 0x6403:
    case 0x6a80:
      return { kind: 'bad-length' };
    default:
      return { kind: 'card-error', sw };
  }
}

/** A reader with a PIN pad: control codes plus, optionally, an already known feature map. */
export type PinpadReader = ControlPort & {
  /** The reader's part-10 features, if the transport already asked for them. */
  features?(): Promise<ReadonlyMap<number, number>>;
};

/** True when the reader announces FEATURE_VERIFY_PIN_DIRECT. */
export async function hasPinpad(reader: PinpadReader): Promise<boolean> {
  const map = reader.features ? await reader.features() : await readFeaturesOrEmpty(reader);
  return map.has(FEATURE.VERIFY_PIN_DIRECT);
}

async function readFeaturesOrEmpty(reader: ControlPort): Promise<ReadonlyMap<number, number>> {
  const r = await readFeatures(reader);
  return r.ok ? r.value : new Map();
}

/**
 * Lets the user enter the PIN on the reader's PIN pad. Sends the structure once: never retries
 * (a retry would burn another try without the user's decision). Rejects only on transport
 * failure; every answer of the reader is mapped to a {@link PinOutcome}.
 */
export async function verifyPinOnPinpad(
  reader: PinpadReader,
  options: VerifyPinDirectOptions = {},
): Promise<Result<PinOutcome, PinpadError>> {
  const features = reader.features ? await reader.features() : await readFeaturesOrEmpty(reader);
  const code = features.get(FEATURE.VERIFY_PIN_DIRECT);
  if (code === undefined) {
    return err({ code: 'no-pinpad', message: 'the reader has no FEATURE_VERIFY_PIN_DIRECT' });
  }
  const structure = buildVerifyPinDirect(options);
  if (!structure.ok) return structure;
  const answer = await reader.control(code, structure.value);
  if (answer.length < 2) {
    return err({ code: 'malformed-response', message: `PIN pad answered ${answer.length} bytes` });
  }
  const sw = (answer[answer.length - 2]! << 8) | answer[answer.length - 1]!;
  return ok(pinOutcomeFromSw(sw));
}
