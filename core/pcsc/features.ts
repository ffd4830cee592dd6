/**
 * PC/SC part 10 (v2.02.09 §2.2) GET_FEATURE_REQUEST: the reader answers a list of
 * `tag(1) ‖ len(1)=4 ‖ control code(4, big endian)` entries, one per supported feature
 * (e.g. 06 FEATURE_VERIFY_PIN_DIRECT, 12 FEATURE_GET_TLV_PROPERTIES).
 * @module
 */
import { err, ok, type Result } from '../../shared/result';
import { CardTransportError } from '../card/transport';
import { pcscReturnCode, SCARD } from './pcsc-errors';

/** Control code number of GET_FEATURE_REQUEST, to be wrapped by SCARD_CTL_CODE (part 10 §2.2). */
export const GET_FEATURE_REQUEST_CODE = 3400;

/** Feature tags of PC/SC part 10 §2.3. */
export const FEATURE = {
  VERIFY_PIN_START: 0x01,
  VERIFY_PIN_FINISH: 0x02,
  MODIFY_PIN_START: 0x03,
  MODIFY_PIN_FINISH: 0x04,
  GET_KEY_PRESSED: 0x05,
  VERIFY_PIN_DIRECT: 0x06,
  MODIFY_PIN_DIRECT: 0x07,
  MCT_READER_DIRECT: 0x08,
  MCT_UNIVERSAL: 0x09,
  IFD_PIN_PROPERTIES: 0x0a,
  ABORT: 0x0b,
  SET_SPE_MESSAGE: 0x0c,
  VERIFY_PIN_DIRECT_APP_ID: 0x0d,
  MODIFY_PIN_DIRECT_APP_ID: 0x0e,
  WRITE_DISPLAY: 0x0f,
  GET_KEY: 0x10,
  IFD_DISPLAY_PROPERTIES: 0x11,
  GET_TLV_PROPERTIES: 0x12,
  CCID_ESC_COMMAND: 0x13,
} as const;

/** Why a feature list could not be parsed. */
export type FeatureListError = { readonly code: 'malformed'; readonly message: string };

/** Parses a GET_FEATURE_REQUEST answer into feature tag → control code. */
export function parseFeatureList(bytes: Uint8Array): Result<Map<number, number>, FeatureListError> {
  const out = new Map<number, number>();
  let i = 0;
  while (i < bytes.length) {
    if (i + 2 > bytes.length) return err({ code: 'malformed', message: `truncated entry at ${i}` });
    const tag = bytes[i]!;
    const len = bytes[i + 1]!;
    if (len !== 4 || i + 2 + len > bytes.length) {
      return err({ code: 'malformed', message: `feature ${tag} has length ${len} at ${i}` });
    }
    const v =
      ((bytes[i + 2]! << 24) | (bytes[i + 3]! << 16) | (bytes[i + 4]! << 8) | bytes[i + 5]!) >>> 0;
    out.set(tag, v);
    i += 6;
  }
  return ok(out);
}

/**
 * SCARD_CTL_CODE as the platform's PC/SC stack defines it: pcsc-lite (Linux, macOS) adds
 * 0x42000000; WinSCard uses the Windows device-IO encoding `0x31 << 16 | code << 2`.
 * @throws RangeError for a function number outside 0..0xFFF
 */
export function scardCtlCode(code: number, platform: string): number {
  if (!Number.isInteger(code) || code < 0 || code > 0xfff) {
    throw new RangeError(`control code function ${code} is out of range`);
  }
  return platform === 'win32' ? ((0x31 << 16) | (code << 2)) >>> 0 : 0x42000000 + code;
}

/** Return codes with which readers refuse an unknown control code (pcsc-lite maps IFD errors). */
const UNSUPPORTED_CONTROL: ReadonlySet<number> = new Set([
  SCARD.E_UNSUPPORTED_FEATURE,
  SCARD.E_UNSUPPORTED_FEATURE_2,
  SCARD.E_NOT_TRANSACTED,
]);

/**
 * Asks the reader in `reader` for its features with GET_FEATURE_REQUEST (control code `code`,
 * sent through `control`): feature tag → control code. A reader without part 10 support refuses
 * the control code: it simply has no features (an empty map).
 * @throws CardTransportError for any other failure, or a malformed answer ('protocol')
 */
export async function readFeatures(
  control: (code: number, data: Uint8Array) => Promise<Uint8Array>,
  code: number,
  reader: string,
): Promise<ReadonlyMap<number, number>> {
  let answer: Uint8Array;
  try {
    answer = await control(code, new Uint8Array(0));
  } catch (e) {
    const rc = e instanceof CardTransportError ? pcscReturnCode(e.cause) : undefined;
    if (rc !== undefined && UNSUPPORTED_CONTROL.has(rc)) return new Map();
    throw e;
  }
  const parsed = parseFeatureList(answer);
  if (!parsed.ok) {
    throw new CardTransportError(
      'protocol',
      `GET_FEATURE_REQUEST on "${reader}": ${parsed.error.message}`,
    );
  }
  return parsed.value;
}
