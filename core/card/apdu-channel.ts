/**
 * The APDU channel: what card logic talks to. It stacks the processors of ./processors over a
 * {@link CardTransport} and serialises commands, so a chained or GET RESPONSE exchange is never
 * interleaved with another caller's APDU.
 * @module
 */
import type { CommandApdu, ResponseApdu } from '../../shared/codec/apdu';
import { supportsExtendedLength } from './atr';
import {
  ChainingProcessor,
  GetResponseProcessor,
  LeCorrectionProcessor,
  RawProcessor,
  type ApduProcessor,
} from './processors';
import type { CardTransport } from './transport';

/** Channel options. */
export type ApduChannelOptions = {
  /**
   * Whether to send extended-length APDUs. Default: what the ATR's card capabilities say
   * (docs/card-reference.md §1.4: the SmartCard-HSM needs extended length for ENUMERATE OBJECTS and RSA).
   */
  readonly extendedLength?: boolean;
  /** Largest data field per chained short APDU when extended length is off (1..255, default 255). */
  readonly maxShortData?: number;
};

/** Sends whole commands to a card: GET RESPONSE, Le correction, extended length or chaining. */
export class ApduChannel {
  /** Whether this channel sends extended-length APDUs. */
  readonly extendedLength: boolean;
  private readonly stack: ApduProcessor;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** The transport underneath (for reset, close, transaction). */
    readonly transport: CardTransport,
    options: ApduChannelOptions = {},
  ) {
    this.extendedLength = options.extendedLength ?? supportsExtendedLength(transport.atr);
    let inner: ApduProcessor = new RawProcessor(transport, this.extendedLength);
    if (!this.extendedLength) inner = new ChainingProcessor(inner, options.maxShortData ?? 255);
    this.stack = new GetResponseProcessor(new LeCorrectionProcessor(inner));
  }

  /**
   * Sends one command and resolves with the complete response. Rejects with ApduChannelError
   * (card or encoding problem) or CardTransportError (transport problem). Calls are serialised.
   */
  send(cmd: CommandApdu): Promise<ResponseApdu> {
    // The queue never rejects (failures are caught below), so each command waits its turn.
    const run = this.queue.then(() => this.stack.send(cmd));
    this.queue = run.catch(() => undefined);
    return run;
  }
}
