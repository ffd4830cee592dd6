/**
 * BER-TLV codec (ISO/IEC 7816-4 §5.2, ITU-T X.690 length rules) as used by the SmartCard-HSM,
 * CVCs (BSI TR-03110) and PKA files. Strict by default: truncation, trailing bytes, indefinite
 * lengths and non-minimal lengths are errors. Tags are numbers of their raw bytes (`0x7F21`).
 * @module
 */
import { concatBytes } from './bytes';
import { err, ok, type Result } from '../result';

/** One decoded TLV. `value` is a view into the input (no copy). */
export type Tlv = {
  readonly tag: number;
  readonly value: Uint8Array;
  /** Offset of the tag's first byte in the decoded input. */
  readonly start: number;
  /** Offset just past the value. */
  readonly end: number;
  /** The whole encoding (tag, length, value) as a view into the input. */
  readonly raw: Uint8Array;
};

/** Why a TLV could not be decoded. */
export type TlvErrorCode =
  | 'truncated'
  | 'trailing-data'
  | 'bad-tag'
  | 'indefinite-length'
  | 'length-too-large'
  | 'non-minimal-length'
  | 'missing-tag'
  | 'unexpected-tag';

/** A decoding error with the offset where it was found. */
export type TlvError = {
  readonly code: TlvErrorCode;
  readonly offset: number;
  readonly message: string;
};

/** Decoder options. */
export type TlvOptions = {
  /** Accept e.g. `81 05` where `05` suffices. Real cards are DER-clean; default false. */
  readonly allowNonMinimalLength?: boolean;
  /** Largest value length accepted (default 65535, the largest extended APDU payload). */
  readonly maxLength?: number;
};

const tlvError = (code: TlvErrorCode, offset: number, message: string): TlvError => ({
  code,
  offset,
  message,
});

/** True when the tag's first byte marks a constructed encoding (bit 6, 0x20). */
export function isConstructed(tag: number): boolean {
  return (tagBytes(tag)[0]! & 0x20) !== 0;
}

/** The raw bytes of a tag number (`0x7F21` → `7F 21`). */
export function tagBytes(tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffffff) throw new Error(`invalid tag ${tag}`);
  const out: number[] = [];
  for (let t = tag; t > 0; t = Math.floor(t / 256)) out.unshift(t % 256);
  return Uint8Array.from(out);
}

/** Minimal DER length octets for a value length. */
export function encodeLength(len: number): Uint8Array {
  if (!Number.isSafeInteger(len) || len < 0 || len > 0xffffffff)
    throw new Error(`invalid length ${len}`);
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one TLV from a tag and its value (or the concatenation of child TLVs). */
export function encodeTlv(tag: number, ...value: readonly Uint8Array[]): Uint8Array {
  const body = value.length === 1 ? value[0]! : concatBytes(...value);
  return concatBytes(tagBytes(tag), encodeLength(body.length), body);
}

/** Decodes the TLV that starts at `offset`. Bytes after it are left for the caller. */
export function decodeTlvAt(
  input: Uint8Array,
  offset = 0,
  options: TlvOptions = {},
): Result<Tlv, TlvError> {
  const maxLength = options.maxLength ?? 0xffff;
  let p = offset;
  if (p >= input.length) return err(tlvError('truncated', p, 'no tag'));
  const first = input[p++]!;
  // 00 and FF are padding/EOC in ISO 7816-4, never a tag in SmartCard-HSM data.
  if (first === 0x00 || first === 0xff)
    return err(tlvError('bad-tag', offset, `invalid tag byte ${first}`));
  let tag = first;
  if ((first & 0x1f) === 0x1f) {
    let n = 0;
    for (;;) {
      if (p >= input.length) return err(tlvError('truncated', p, 'tag truncated'));
      const b = input[p++]!;
      if (++n > 3) return err(tlvError('bad-tag', offset, 'tag longer than 4 bytes'));
      if (n === 1 && b === 0x80) return err(tlvError('bad-tag', offset, 'non-minimal tag'));
      tag = tag * 256 + b;
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= input.length) return err(tlvError('truncated', p, 'length missing'));
  const l0 = input[p++]!;
  let len: number;
  if (l0 < 0x80) {
    len = l0;
  } else if (l0 === 0x80) {
    return err(tlvError('indefinite-length', p - 1, 'indefinite length'));
  } else {
    const n = l0 & 0x7f;
    if (n > 4) return err(tlvError('length-too-large', p - 1, `length of ${n} bytes`));
    if (p + n > input.length) return err(tlvError('truncated', p, 'length truncated'));
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + input[p + i]!;
    const minimal = len >= 0x80 && (n === 1 || input[p] !== 0);
    if (!minimal && !options.allowNonMinimalLength) {
      return err(tlvError('non-minimal-length', p - 1, 'length not minimally encoded'));
    }
    p += n;
  }
  if (len > maxLength)
    return err(tlvError('length-too-large', p, `length ${len} exceeds ${maxLength}`));
  if (p + len > input.length) {
    return err(tlvError('truncated', p, `value needs ${len} bytes, ${input.length - p} left`));
  }
  return ok({
    tag,
    value: input.subarray(p, p + len),
    start: offset,
    end: p + len,
    raw: input.subarray(offset, p + len),
  });
}

/** Decodes exactly one TLV spanning the whole input (trailing bytes are an error). */
export function decodeTlv(input: Uint8Array, options: TlvOptions = {}): Result<Tlv, TlvError> {
  const r = decodeTlvAt(input, 0, options);
  if (!r.ok) return r;
  if (r.value.end !== input.length) {
    return err(
      tlvError('trailing-data', r.value.end, `${input.length - r.value.end} bytes after TLV`),
    );
  }
  return r;
}

/** Decodes a concatenation of TLVs that must fill the input exactly. */
export function decodeTlvList(
  input: Uint8Array,
  options: TlvOptions = {},
): Result<Tlv[], TlvError> {
  const out: Tlv[] = [];
  let p = 0;
  while (p < input.length) {
    const r = decodeTlvAt(input, p, options);
    if (!r.ok) return r;
    out.push(r.value);
    p = r.value.end;
  }
  return ok(out);
}

/** The first TLV with `tag`, or undefined. */
export function findTlv(list: readonly Tlv[], tag: number): Tlv | undefined {
  return list.find((t) => t.tag === tag);
}

/** Decodes the children of a constructed TLV. */
export function children(tlv: Tlv, options: TlvOptions = {}): Result<Tlv[], TlvError> {
  return decodeTlvList(tlv.value, options);
}
