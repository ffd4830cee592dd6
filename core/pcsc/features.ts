/**
 * PC/SC part 10 (v2.02.09 §2.2) GET_FEATURE_REQUEST: the reader answers a list of
 * `tag(1) ‖ len(1)=4 ‖ control code(4, big endian)` entries, one per supported feature
 * (e.g. 06 FEATURE_VERIFY_PIN_DIRECT, 12 FEATURE_GET_TLV_PROPERTIES).
 * @module
 */
import { err, ok, type Result } from '../../shared/result';

/** Control code number of GET_FEATURE_REQUEST, to be wrapped by SCARD_CTL_CODE (part 10 §2.2). */
export const GET_FEATURE_REQUEST_CODE = 3400;

/** Well-known feature tags (PC/SC part 10 §2.3). */
export const FEATURE = {
  VERIFY_PIN_DIRECT: 0x06,
  MODIFY_PIN_DIRECT: 0x07,
  IFD_PIN_PROPERTIES: 0x0a,
  GET_TLV_PROPERTIES: 0x12,
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

/** SCARD_CTL_CODE as pcsc-lite defines it (Linux/macOS) and as WinSCard does. */
export function scardCtlCode(code: number, platform: string): number {
  return platform === 'win32' ? ((0x31 << 16) | (code << 2)) >>> 0 : 0x42000000 + code;
}
