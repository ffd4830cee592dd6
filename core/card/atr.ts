/**
 * Answer-to-reset parsing (ISO/IEC 7816-3 §8.2, historical bytes ISO/IEC 7816-4 §8.1.1), just far
 * enough to read the card-capabilities compact-TLV object (tag 7x) that announces extended
 * length and command chaining. The SmartCard-HSM ATRs carry `73 80 21 40` (docs/card-reference.md §1.2).
 * Pure: no I/O, no Node APIs.
 * @module
 */
import { err, ok, type Result } from '../../shared/result';

/** One compact-TLV data object of the historical bytes (tag and length are one nibble each). */
export type CompactTlv = { readonly tag: number; readonly value: Uint8Array };

/** The parts of an ATR this project uses. */
export type ParsedAtr = {
  /** Transmission protocols announced in TD1, TD2, … (T=0 when none is indicated). */
  readonly protocols: readonly number[];
  /** The K historical bytes. */
  readonly historicalBytes: Uint8Array;
  /** Compact-TLV objects of the historical bytes (empty when the category is not `00`/`80`). */
  readonly compactTlv: readonly CompactTlv[];
  /** The value of the card-capabilities object (tag 7), if present. */
  readonly cardCapabilities?: Uint8Array;
  /** TCK when present, and whether the XOR of T0..TCK is zero as it must be. */
  readonly tck?: { readonly value: number; readonly valid: boolean };
};

/** Why an ATR could not be parsed. */
export type AtrError = {
  readonly code: 'too-short' | 'bad-ts' | 'truncated' | 'trailing-bytes' | 'bad-historical';
  readonly message: string;
};

const atrError = (code: AtrError['code'], message: string): AtrError => ({ code, message });

/** ISO/IEC 7816-3 §8.1: an ATR is at most 33 bytes (TS + 32). */
const MAX_ATR = 33;

/** Parses an ATR (ISO/IEC 7816-3 §8.2). */
export function parseAtr(atr: Uint8Array): Result<ParsedAtr, AtrError> {
  if (atr.length < 2) return err(atrError('too-short', `ATR of ${atr.length} bytes`));
  if (atr.length > MAX_ATR) return err(atrError('trailing-bytes', `ATR of ${atr.length} bytes`));
  const ts = atr[0]!;
  // TS is 3B (direct convention) or 3F (inverse convention, already decoded by the reader).
  if (ts !== 0x3b && ts !== 0x3f) return err(atrError('bad-ts', `TS byte ${ts.toString(16)}`));
  const t0 = atr[1]!;
  const k = t0 & 0x0f;
  let y = t0 >> 4;
  let i = 2;
  const protocols: number[] = [];
  // Interface bytes: each TDi announces TA/TB/TC/TD(i+1) with its high nibble (§8.2.2).
  while (true) {
    for (const bit of [0x1, 0x2, 0x4]) {
      if (y & bit) i += 1;
    }
    if (!(y & 0x8)) break;
    if (i >= atr.length) return err(atrError('truncated', 'ATR ends inside the interface bytes'));
    const td = atr[i]!;
    i += 1;
    protocols.push(td & 0x0f);
    y = td >> 4;
  }
  if (i + k > atr.length) return err(atrError('truncated', 'ATR ends inside the historical bytes'));
  const historicalBytes = atr.slice(i, i + k);
  i += k;
  // TCK is present unless only T=0 is indicated (§8.2.5).
  const needsTck = protocols.some((p) => p !== 0);
  let tck: ParsedAtr['tck'];
  if (needsTck) {
    if (i >= atr.length) return err(atrError('truncated', 'ATR lacks its TCK byte'));
    let x = 0;
    for (let j = 1; j <= i; j += 1) x ^= atr[j]!;
    tck = { value: atr[i]!, valid: x === 0 };
    i += 1;
  }
  if (i !== atr.length) {
    return err(atrError('trailing-bytes', `${atr.length - i} bytes after the ATR`));
  }
  const objects = parseHistoricalBytes(historicalBytes);
  if (!objects.ok) return objects;
  const capabilities = objects.value.find((o) => o.tag === 7);
  const parsed: ParsedAtr = {
    protocols: protocols.length > 0 ? protocols : [0],
    historicalBytes,
    compactTlv: objects.value,
    ...(capabilities !== undefined ? { cardCapabilities: capabilities.value } : {}),
    ...(tck !== undefined ? { tck } : {}),
  };
  return ok(parsed);
}

/**
 * Splits historical bytes into compact-TLV objects (ISO/IEC 7816-4 §8.1.1.1). Category `80`:
 * objects follow; `00`: objects followed by a 3-byte status indicator; others: proprietary.
 */
export function parseHistoricalBytes(hist: Uint8Array): Result<CompactTlv[], AtrError> {
  if (hist.length === 0) return ok([]);
  const category = hist[0]!;
  let end: number;
  if (category === 0x80) end = hist.length;
  else if (category === 0x00) {
    if (hist.length < 4) return err(atrError('bad-historical', 'status indicator missing'));
    end = hist.length - 3;
  } else return ok([]);
  const out: CompactTlv[] = [];
  let i = 1;
  while (i < end) {
    const b = hist[i]!;
    const len = b & 0x0f;
    if (i + 1 + len > end) {
      return err(atrError('bad-historical', `compact-TLV ${b.toString(16)} overruns`));
    }
    out.push({ tag: b >> 4, value: hist.slice(i + 1, i + 1 + len) });
    i += 1 + len;
  }
  return ok(out);
}

/** Third software-function byte of the card capabilities (ISO/IEC 7816-4 §8.1.1.2.7, table 87). */
const thirdCapabilityByte = (atr: Uint8Array): number | undefined => {
  const parsed = parseAtr(atr);
  if (!parsed.ok) return undefined;
  const caps = parsed.value.cardCapabilities;
  return caps !== undefined && caps.length >= 3 ? caps[2] : undefined;
};

/**
 * True when the ATR announces extended Lc/Le (card capabilities, third byte, bit `40`). False for
 * malformed ATRs and ATRs without the object. The SmartCard-HSM says yes (docs/card-reference.md §1.2, §1.4).
 */
export function supportsExtendedLength(atr: Uint8Array): boolean {
  const b = thirdCapabilityByte(atr);
  return b !== undefined && (b & 0x40) !== 0;
}

/** True when the ATR announces command chaining (card capabilities, third byte, bit `80`). */
export function supportsCommandChaining(atr: Uint8Array): boolean {
  const b = thirdCapabilityByte(atr);
  return b !== undefined && (b & 0x80) !== 0;
}
