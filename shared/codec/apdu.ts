/**
 * Command and response APDUs (ISO/IEC 7816-3 §12.1, 7816-4 §5.1): cases 1–4, short and
 * extended length. `ne` is the expected response length: undefined = no Le field, 1..256 short
 * (256 is encoded `00`), up to 65536 extended (65536 is encoded `00 00`).
 * @module
 */
import { err, ok, type Result } from '../result';

/** A command APDU. */
export type CommandApdu = {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly data: Uint8Array;
  readonly ne?: number;
};

/** A decoded command APDU with its encoding form. */
export type DecodedCommandApdu = CommandApdu & {
  readonly extended: boolean;
  readonly case: 1 | 2 | 3 | 4;
};

/** A response APDU: data and the status word (SW1 SW2 as one number, e.g. 0x9000). */
export type ResponseApdu = { readonly data: Uint8Array; readonly sw: number };

/** Why an APDU could not be encoded or decoded. */
export type ApduError = {
  readonly code: 'too-short' | 'bad-length' | 'bad-field';
  readonly message: string;
};

const apduError = (code: ApduError['code'], message: string): ApduError => ({ code, message });

/** Builds a command APDU (convenience; validates the header bytes). */
export function command(
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data: Uint8Array = new Uint8Array(0),
  ne?: number,
): CommandApdu {
  for (const [name, v] of [
    ['CLA', cla],
    ['INS', ins],
    ['P1', p1],
    ['P2', p2],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new Error(`${name} out of range: ${v}`);
  }
  return ne === undefined ? { cla, ins, p1, p2, data } : { cla, ins, p1, p2, data, ne };
}

/** Encoding options. */
export type EncodeOptions = {
  /** Force extended length even when short would do (cards that need it, tests). */
  readonly forceExtended?: boolean;
};

/**
 * Encodes a command APDU, choosing short length when both Nc ≤ 255 and Ne ≤ 256,
 * extended otherwise (ISO/IEC 7816-3 §12.1.3). Returns an error for out-of-range fields.
 */
export function encodeCommandApdu(
  cmd: CommandApdu,
  options: EncodeOptions = {},
): Result<Uint8Array, ApduError> {
  const nc = cmd.data.length;
  const ne = cmd.ne;
  if (nc > 65535) return err(apduError('bad-length', `command data too long (${nc})`));
  if (ne !== undefined && (!Number.isInteger(ne) || ne < 1 || ne > 65536)) {
    return err(apduError('bad-length', `Ne out of range (${ne})`));
  }
  for (const v of [cmd.cla, cmd.ins, cmd.p1, cmd.p2]) {
    if (!Number.isInteger(v) || v < 0 || v > 0xff)
      return err(apduError('bad-field', 'header byte out of range'));
  }
  const extended = options.forceExtended === true || nc > 255 || (ne !== undefined && ne > 256);
  const out: number[] = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
  if (!extended) {
    if (nc > 0) out.push(nc, ...cmd.data);
    if (ne !== undefined) out.push(ne === 256 ? 0 : ne);
  } else {
    if (nc > 0) out.push(0, nc >> 8, nc & 0xff, ...cmd.data);
    if (ne !== undefined) {
      const le = ne === 65536 ? 0 : ne;
      if (nc === 0) out.push(0);
      out.push(le >> 8, le & 0xff);
    }
  }
  return ok(Uint8Array.from(out));
}

/** Decodes a command APDU of any case, short or extended (ISO/IEC 7816-3 §12.1.3). */
export function decodeCommandApdu(bytes: Uint8Array): Result<DecodedCommandApdu, ApduError> {
  if (bytes.length < 4) return err(apduError('too-short', `APDU of ${bytes.length} bytes`));
  const [cla, ins, p1, p2] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  const empty = new Uint8Array(0);
  const base = { cla, ins, p1, p2 };
  const n = bytes.length;
  if (n === 4) return ok({ ...base, data: empty, extended: false, case: 1 });
  const b4 = bytes[4]!;
  if (n === 5)
    return ok({ ...base, data: empty, ne: b4 === 0 ? 256 : b4, extended: false, case: 2 });
  if (b4 !== 0) {
    const nc = b4;
    if (n === 5 + nc)
      return ok({ ...base, data: bytes.slice(5, 5 + nc), extended: false, case: 3 });
    if (n === 6 + nc) {
      const le = bytes[5 + nc]!;
      return ok({
        ...base,
        data: bytes.slice(5, 5 + nc),
        ne: le === 0 ? 256 : le,
        extended: false,
        case: 4,
      });
    }
    return err(apduError('bad-length', `Lc ${nc} does not match APDU length ${n}`));
  }
  // b4 == 0 with more bytes: extended length.
  if (n === 7) {
    const le = (bytes[5]! << 8) | bytes[6]!;
    return ok({ ...base, data: empty, ne: le === 0 ? 65536 : le, extended: true, case: 2 });
  }
  if (n < 8) return err(apduError('bad-length', `extended APDU of ${n} bytes`));
  const nc = (bytes[5]! << 8) | bytes[6]!;
  if (nc === 0) return err(apduError('bad-length', 'extended Lc of zero'));
  if (n === 7 + nc) return ok({ ...base, data: bytes.slice(7, 7 + nc), extended: true, case: 3 });
  if (n === 9 + nc) {
    const le = (bytes[7 + nc]! << 8) | bytes[8 + nc]!;
    return ok({
      ...base,
      data: bytes.slice(7, 7 + nc),
      ne: le === 0 ? 65536 : le,
      extended: true,
      case: 4,
    });
  }
  return err(apduError('bad-length', `extended Lc ${nc} does not match APDU length ${n}`));
}

/** Splits a response APDU into data and status word. */
export function decodeResponseApdu(bytes: Uint8Array): Result<ResponseApdu, ApduError> {
  if (bytes.length < 2) return err(apduError('too-short', `response of ${bytes.length} bytes`));
  const n = bytes.length;
  return ok({ data: bytes.slice(0, n - 2), sw: (bytes[n - 2]! << 8) | bytes[n - 1]! });
}

/** Encodes a response APDU (data ‖ SW1 ‖ SW2). */
export function encodeResponseApdu(resp: ResponseApdu): Uint8Array {
  const out = new Uint8Array(resp.data.length + 2);
  out.set(resp.data, 0);
  out[resp.data.length] = (resp.sw >> 8) & 0xff;
  out[resp.data.length + 1] = resp.sw & 0xff;
  return out;
}

/** Short human form of a command header, e.g. `80 68 01 73` (for logs and the audit trail). */
export function describeHeader(cmd: Pick<CommandApdu, 'cla' | 'ins' | 'p1' | 'p2'>): string {
  return [cmd.cla, cmd.ins, cmd.p1, cmd.p2]
    .map((b) => b.toString(16).padStart(2, '0').toUpperCase())
    .join(' ');
}
