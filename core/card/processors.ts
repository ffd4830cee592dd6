/**
 * APDU processors, stacked like yubikit's: each wraps the next and handles one transport-level
 * concern, so card logic only ever sees whole command/response pairs.
 *
 *   GetResponse → LeCorrection → (Chaining | nothing) → Raw → CardTransport
 *
 * Every loop here is bounded; a card that misbehaves gets a typed {@link ApduChannelError}.
 * @module
 */
import {
  decodeResponseApdu,
  encodeCommandApdu,
  type CommandApdu,
  type ResponseApdu,
} from '../../shared/codec/apdu';
import { concatBytes } from '../../shared/codec/bytes';
import { SW } from '../../shared/card/status-words';
import { INS } from '../../shared/sc-hsm/constants';
import type { CardTransport } from './transport';

/** One layer of the stack. */
export type ApduProcessor = { send(cmd: CommandApdu): Promise<ResponseApdu> };

/** Why the channel could not complete a command. */
export type ApduChannelErrorCode =
  | 'encode' // the command cannot be encoded (field out of range)
  | 'malformed-response' // the card answered fewer than 2 bytes
  | 'ne-unsupported' // Ne > 256 without extended length
  | 'response-too-long' // GET RESPONSE chain exceeded its bound
  | 'chaining-refused'; // an intermediate chained command was not answered 9000

/** A typed channel failure. Transport failures pass through as CardTransportError. */
export class ApduChannelError extends Error {
  override readonly name = 'ApduChannelError';
  constructor(
    readonly code: ApduChannelErrorCode,
    message: string,
    /** The status word that ended the exchange, when there was one. */
    readonly sw?: number,
  ) {
    super(message);
  }
}

/** Largest response a GET RESPONSE chain may assemble: one extended response (ISO 7816-3 §12.1.3). */
export const MAX_RESPONSE_BYTES = 65536;

/** Encodes, transmits and decodes one APDU; picks extended length only when allowed. */
export class RawProcessor implements ApduProcessor {
  constructor(
    private readonly transport: CardTransport,
    private readonly extendedLength: boolean,
  ) {}

  async send(cmd: CommandApdu): Promise<ResponseApdu> {
    const needsExtended = cmd.data.length > 255 || (cmd.ne !== undefined && cmd.ne > 256);
    if (needsExtended && !this.extendedLength) {
      throw new ApduChannelError(
        cmd.data.length > 255 ? 'encode' : 'ne-unsupported',
        `command needs extended length (Nc=${cmd.data.length}, Ne=${cmd.ne ?? 0}), which the card or reader does not support`,
      );
    }
    const encoded = encodeCommandApdu(cmd);
    if (!encoded.ok) throw new ApduChannelError('encode', encoded.error.message);
    const raw = await this.transport.transmit(encoded.value);
    const decoded = decodeResponseApdu(raw);
    if (!decoded.ok) {
      throw new ApduChannelError('malformed-response', `card answered ${raw.length} bytes`);
    }
    return decoded.value;
  }
}

/**
 * ISO/IEC 7816-4 §5.1.1.1 command chaining for data longer than one short APDU: every part but
 * the last has CLA bit `10` set and no Le. Only used when extended length is not available.
 */
export class ChainingProcessor implements ApduProcessor {
  constructor(
    private readonly next: ApduProcessor,
    private readonly maxShortData: number,
  ) {
    if (!Number.isInteger(maxShortData) || maxShortData < 1 || maxShortData > 255) {
      throw new RangeError(`maxShortData must be 1..255, got ${maxShortData}`);
    }
  }

  async send(cmd: CommandApdu): Promise<ResponseApdu> {
    if (cmd.data.length <= this.maxShortData) return this.next.send(cmd);
    if ((cmd.cla & 0x10) !== 0) {
      throw new ApduChannelError('encode', 'CLA already has the chaining bit set');
    }
    let offset = 0;
    while (cmd.data.length - offset > this.maxShortData) {
      const part: CommandApdu = {
        cla: cmd.cla | 0x10,
        ins: cmd.ins,
        p1: cmd.p1,
        p2: cmd.p2,
        data: cmd.data.subarray(offset, offset + this.maxShortData),
      };
      const resp = await this.next.send(part);
      if (resp.sw !== SW.OK) {
        throw new ApduChannelError(
          'chaining-refused',
          `card refused chained part at offset ${offset} with SW ${resp.sw.toString(16)}`,
          resp.sw,
        );
      }
      offset += this.maxShortData;
    }
    const last = { ...cmd, data: cmd.data.subarray(offset) };
    return this.next.send(last);
  }
}

/** ISO/IEC 7816-3 §12.2.2: `6Cxx` means "wrong Le, xx available"; resend once with Le = xx. */
export class LeCorrectionProcessor implements ApduProcessor {
  constructor(private readonly next: ApduProcessor) {}

  async send(cmd: CommandApdu): Promise<ResponseApdu> {
    const resp = await this.next.send(cmd);
    if ((resp.sw & 0xff00) !== 0x6c00) return resp;
    const xx = resp.sw & 0xff;
    // Exactly one retry: a card that answers 6Cxx again gets its answer passed through.
    return this.next.send({ ...cmd, ne: xx === 0 ? 256 : xx });
  }
}

/**
 * ISO/IEC 7816-4 §5.3.4 / 7816-3 §12.2.2: `61xx` means "xx more bytes"; fetch them with GET
 * RESPONSE and concatenate. Bounded by {@link MAX_RESPONSE_BYTES} and a round count.
 */
export class GetResponseProcessor implements ApduProcessor {
  constructor(
    private readonly next: ApduProcessor,
    private readonly maxBytes: number = MAX_RESPONSE_BYTES,
  ) {}

  async send(cmd: CommandApdu): Promise<ResponseApdu> {
    let resp = await this.next.send(cmd);
    if ((resp.sw & 0xff00) !== 0x6100) return resp;
    const parts: Uint8Array[] = [resp.data];
    let total = resp.data.length;
    // Each round must add at least one byte, so this many rounds can never be legitimate.
    const maxRounds = Math.ceil(this.maxBytes / 256) + 2;
    for (let round = 0; (resp.sw & 0xff00) === 0x6100; round += 1) {
      if (round >= maxRounds) {
        throw new ApduChannelError(
          'response-too-long',
          `GET RESPONSE did not end after ${round} rounds`,
          resp.sw,
        );
      }
      const xx = resp.sw & 0xff;
      // GET RESPONSE keeps the logical channel bits of the original CLA (ISO/IEC 7816-4 §5.4.1).
      resp = await this.next.send({
        cla: cmd.cla & 0x03,
        ins: INS.GET_RESPONSE,
        p1: 0,
        p2: 0,
        data: new Uint8Array(0),
        ne: xx === 0 ? 256 : xx,
      });
      if (resp.data.length === 0 && (resp.sw & 0xff00) === 0x6100) {
        throw new ApduChannelError(
          'response-too-long',
          'GET RESPONSE returned no data but announced more',
          resp.sw,
        );
      }
      total += resp.data.length;
      if (total > this.maxBytes) {
        throw new ApduChannelError(
          'response-too-long',
          `response exceeds ${this.maxBytes} bytes`,
          resp.sw,
        );
      }
      parts.push(resp.data);
    }
    return { data: concatBytes(...parts), sw: resp.sw };
  }
}
