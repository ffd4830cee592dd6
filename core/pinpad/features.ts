/**
 * PC/SC part 10 (v2.02.09) feature discovery: the GET_FEATURE_REQUEST control call and the
 * parser of its answer, a list of `tag ‖ 04 ‖ control code (big-endian)` TLVs. Used to find
 * FEATURE_VERIFY_PIN_DIRECT on readers with a PIN pad (remote-protocols §4.3 item 5: prefer
 * the PIN pad so the PIN never passes through the host).
 * @module
 */
import { err, ok, type Result } from '../../shared/result';

/** Feature tags of PC/SC part 10 §2.3 (the subset this client knows by name). */
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

/** Feature tag → reader control code, as announced by the reader. */
export type FeatureMap = ReadonlyMap<number, number>;

/** Why a pin-pad operation failed. */
export type PinpadErrorCode =
  'malformed-features' | 'no-pinpad' | 'bad-argument' | 'malformed-response';

/** A typed pin-pad error. */
export type PinpadError = { readonly code: PinpadErrorCode; readonly message: string };

const pinpadError = (code: PinpadErrorCode, message: string): PinpadError => ({ code, message });

/** The control code number of CM_IOCTL_GET_FEATURE_REQUEST (PC/SC part 10 §2.2). */
export const GET_FEATURE_REQUEST = 3400;

/**
 * SCARD_CTL_CODE as the platform's PC/SC stack defines it: pcsc-lite (Linux, macOS) adds
 * 0x42000000; WinSCard uses the Windows device-IO encoding `0x31 << 16 | code << 2`.
 */
export function scardCtlCode(code: number, platform: string = process.platform): number {
  if (!Number.isInteger(code) || code < 0 || code > 0xfff) {
    throw new RangeError(`control code function ${code} is out of range`);
  }
  return platform === 'win32' ? ((0x31 << 16) | (code << 2)) >>> 0 : 0x42000000 + code;
}

/** Largest feature list accepted (19 known features × 6 bytes, with room for vendor ones). */
const MAX_FEATURE_BYTES = 1024;

/**
 * Parses the GET_FEATURE_REQUEST answer. Every TLV must have length 4 (PC/SC part 10 §2.2);
 * anything else means the reader answered garbage and no feature is trusted.
 */
export function parseFeatures(bytes: Uint8Array): Result<FeatureMap, PinpadError> {
  if (bytes.length > MAX_FEATURE_BYTES) {
    return err(pinpadError('malformed-features', `feature list of ${bytes.length} bytes`));
  }
  if (bytes.length % 6 !== 0) {
    return err(
      pinpadError(
        'malformed-features',
        `feature list length ${bytes.length} is not a multiple of 6`,
      ),
    );
  }
  const map = new Map<number, number>();
  for (let i = 0; i < bytes.length; i += 6) {
    const tag = bytes[i]!;
    const len = bytes[i + 1]!;
    if (len !== 4) {
      return err(pinpadError('malformed-features', `feature ${tag} has length ${len}, expected 4`));
    }
    if (tag === 0 || map.has(tag)) {
      return err(pinpadError('malformed-features', `feature tag ${tag} is invalid or repeated`));
    }
    const code =
      ((bytes[i + 2]! << 24) | (bytes[i + 3]! << 16) | (bytes[i + 4]! << 8) | bytes[i + 5]!) >>> 0;
    map.set(tag, code);
  }
  return ok(map);
}

/** A reader that accepts control codes (PC/SC SCardControl). */
export type ControlPort = {
  control(code: number, data: Uint8Array): Promise<Uint8Array>;
};

/**
 * Asks the reader for its part-10 features. A reader that rejects the request (most readers
 * without a PIN pad) yields an empty map, not an error; a garbled answer is an error.
 */
export async function readFeatures(
  reader: ControlPort,
  platform: string = process.platform,
): Promise<Result<FeatureMap, PinpadError>> {
  let answer: Uint8Array;
  try {
    answer = await reader.control(scardCtlCode(GET_FEATURE_REQUEST, platform), new Uint8Array(0));
  } catch {
    return ok(new Map());
  }
  return parseFeatures(answer);
}
