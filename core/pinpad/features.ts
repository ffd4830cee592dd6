/**
 * PC/SC part 10 (v2.02.09) feature discovery: the GET_FEATURE_REQUEST control call and the
 * parser of its answer, a list of `tag ‖ 04 ‖ control code (big-endian)` TLVs. Used to find
 * FEATURE_VERIFY_PIN_DIRECT on readers with a PIN pad (docs/card-reference.md §14.2 item 5: prefer
 * the PIN pad so the PIN never passes through the host).
 * @module
 */
import { err, ok, type Result } from '../../shared/result';
import {
  FEATURE,
  GET_FEATURE_REQUEST_CODE,
  parseFeatureList,
  scardCtlCode as ctlCode,
} from '../pcsc/features';

export { FEATURE };

/** Feature tag → reader control code, as announced by the reader. */
export type FeatureMap = ReadonlyMap<number, number>;

/** Why a pin-pad operation failed. */
export type PinpadErrorCode =
  'malformed-features' | 'no-pinpad' | 'bad-argument' | 'malformed-response';

/** A typed pin-pad error. */
export type PinpadError = { readonly code: PinpadErrorCode; readonly message: string };

const pinpadError = (code: PinpadErrorCode, message: string): PinpadError => ({ code, message });

/** The control code number of CM_IOCTL_GET_FEATURE_REQUEST (PC/SC part 10 §2.2). */
export const GET_FEATURE_REQUEST = GET_FEATURE_REQUEST_CODE;

/** SCARD_CTL_CODE for this platform (core/pcsc/features.ts). */
export function scardCtlCode(code: number, platform: string = process.platform): number {
  return ctlCode(code, platform);
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
  // Stricter than the generic parser: a PIN pad is only trusted from a clean list.
  const seen = new Set<number>();
  for (let i = 0; i < bytes.length; i += 6) {
    const tag = bytes[i]!;
    if (tag === 0 || seen.has(tag)) {
      return err(pinpadError('malformed-features', `feature tag ${tag} is invalid or repeated`));
    }
    seen.add(tag);
  }
  const parsed = parseFeatureList(bytes);
  return parsed.ok
    ? ok(parsed.value)
    : err(pinpadError('malformed-features', parsed.error.message));
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
