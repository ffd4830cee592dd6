/**
 * A connected PC/SC card: the {@link CardTransport} over one pcsclite reader handle.
 *
 * pcsclite 1.x exposes neither SCardBeginTransaction/EndTransaction nor SCardReconnect nor
 * SCardStatus. So: `transaction()` on a shared connection reconnects EXCLUSIVE for the duration
 * (disconnect LEAVE_CARD keeps the card's PIN/PKA state, docs/card-reference.md §10) and back to shared
 * afterwards; `reset()` is disconnect RESET_CARD + connect; the ATR comes from the reader's
 * status events.
 * @module
 */
import { CardTransportError, type CardTransport, type Disposition } from '../card/transport';
import { mapPcscError } from './pcsc-errors';
import { GET_FEATURE_REQUEST_CODE, readFeatures, scardCtlCode } from './features';
import type { PcscliteReader } from './pcsclite-types';
import {
  connectReader,
  controlReader,
  disconnectReader,
  dispositionCode,
  transmitRaw,
  type ShareMode,
} from './reader-calls';

/** A card connected through PC/SC. */
export type PcscCard = CardTransport & {
  /** The reader the card sits in. */
  readonly reader: string;
  /** PC/SC part 10 features of the reader: feature tag → control code (empty when none). */
  features(): Promise<ReadonlyMap<number, number>>;
};

/** Deadlines for calls on a card, in milliseconds. */
export type CardTimeouts = {
  readonly connectMs: number;
  readonly transmitMs: number;
  readonly controlMs: number;
  readonly disconnectMs: number;
};

/** What a card needs from its context (reader presence tracking lives there). */
export type CardHost = {
  /** Current ATR of the card in `reader`, waiting briefly for the first status if needed. */
  atrOf(reader: string): Promise<Uint8Array>;
  /** Resolves true if the card in `reader` is (or within `ms` becomes) absent. */
  waitForRemoval(reader: string, ms: number): Promise<boolean>;
  /** Called once when `card` is closed. */
  released(card: PcscCard): void;
  readonly platform: string;
};

/** How long to wait for pcscd to notice a removal after a failed exchange. */
const REMOVAL_GRACE_MS = 2000;

/** The CardTransport implementation over pcsclite. */
export class PcscCardImpl implements PcscCard {
  private state: 'open' | 'closed' | 'broken' = 'open';
  private brokenBy: CardTransportError | undefined;
  private switching: Promise<void> = Promise.resolve();
  private transactions: Promise<unknown> = Promise.resolve();
  /** The share mode of the current handle (exclusive while a transaction runs). */
  private mode: ShareMode;

  constructor(
    private readonly r: PcscliteReader,
    private readonly host: CardHost,
    private readonly share: ShareMode,
    private protocol: number,
    private currentAtr: Uint8Array,
    private readonly timeouts: CardTimeouts,
  ) {
    this.mode = share;
  }

  get reader(): string {
    return this.r.name;
  }

  get atr(): Uint8Array {
    return this.currentAtr;
  }

  /** True once the handle is unusable (card removed, timeout, failed reconnect). */
  get broken(): boolean {
    return this.state === 'broken';
  }

  private usable(op: string): void {
    if (this.state === 'closed')
      throw new CardTransportError('closed', `${op}: connection to "${this.reader}" is closed`);
    if (this.state === 'broken')
      throw this.brokenBy ?? new CardTransportError('closed', `${op}: connection unusable`);
  }

  /** After a timeout the native call may still complete later; the handle cannot be trusted. */
  private breakWith(e: CardTransportError): CardTransportError {
    if (e.code === 'timeout' || e.code === 'card-removed') {
      this.state = 'broken';
      const text =
        e.code === 'timeout'
          ? 'abandoned after a timeout; reconnect'
          : 'the card was removed; reconnect';
      this.brokenBy = new CardTransportError(e.code, `connection to "${this.reader}" ${text}`, {
        cause: e,
      });
    }
    return e;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    this.usable('transmit');
    await this.switching;
    this.usable('transmit');
    const what = `transmit to "${this.reader}"`;
    let raw: Buffer;
    try {
      raw = await transmitRaw(this.r, apdu, this.protocol, this.timeouts.transmitMs, what);
    } catch (e) {
      const mapped = mapPcscError(e, what);
      if (mapped.code === 'io' && (await this.host.waitForRemoval(this.reader, REMOVAL_GRACE_MS))) {
        throw this.breakWith(
          new CardTransportError(
            'card-removed',
            `${what}: the card was removed during the command`,
            { cause: e },
          ),
        );
      }
      throw this.breakWith(mapped);
    }
    if (raw.length < 2) {
      // vpcd (and some drivers) report a card that vanished mid-command as an empty answer.
      if (await this.host.waitForRemoval(this.reader, REMOVAL_GRACE_MS)) {
        throw this.breakWith(
          new CardTransportError(
            'card-removed',
            `${what}: the card was removed during the command`,
          ),
        );
      }
      throw new CardTransportError('protocol', `${what}: response of ${raw.length} bytes`);
    }
    const response = new Uint8Array(raw);
    raw.fill(0);
    return response;
  }

  async control(code: number, data: Uint8Array): Promise<Uint8Array> {
    this.usable('control');
    await this.switching;
    const what = `control 0x${code.toString(16)} on "${this.reader}"`;
    try {
      return await controlReader(this.r, code, data, this.timeouts.controlMs, what);
    } catch (e) {
      throw this.breakWith(mapPcscError(e, what));
    }
  }

  async features(): Promise<ReadonlyMap<number, number>> {
    const code =
      this.r.SCARD_CTL_CODE?.(GET_FEATURE_REQUEST_CODE) ??
      scardCtlCode(GET_FEATURE_REQUEST_CODE, this.host.platform);
    return readFeatures((c, data) => this.control(c, data), code, this.reader);
  }

  private disconnect(disposition: number, what: string): Promise<void> {
    return disconnectReader(this.r, disposition, this.timeouts.disconnectMs, what);
  }

  /** Disconnects with `disposition` and connects again in `share` mode. */
  private reconnect(disposition: number, share: ShareMode, what: string): Promise<void> {
    const run = this.switching.then(async () => {
      try {
        await this.disconnect(disposition, what);
        this.protocol = await connectReader(this.r, share, this.timeouts.connectMs);
        this.mode = share;
      } catch (e) {
        const mapped = mapPcscError(e, what);
        this.state = 'broken';
        this.brokenBy = new CardTransportError(
          mapped.code,
          `${what} failed; connection lost: ${mapped.message}`,
          { cause: e },
        );
        throw mapped;
      }
    });
    this.switching = run.catch(() => undefined);
    return run;
  }

  async reset(): Promise<Uint8Array> {
    this.usable('reset');
    // Keep the current mode: a reset inside a transaction must not give up exclusivity.
    await this.reconnect(this.r.SCARD_RESET_CARD, this.mode, `reset "${this.reader}"`);
    this.currentAtr = await this.host.atrOf(this.reader);
    return this.currentAtr;
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.transactions.then(async () => {
      this.usable('transaction');
      if (this.share === 'exclusive') return fn();
      // No SCardBeginTransaction in pcsclite: hold the card exclusively for the duration.
      await this.reconnect(
        this.r.SCARD_LEAVE_CARD,
        'exclusive',
        `begin transaction on "${this.reader}"`,
      );
      try {
        return await fn();
      } finally {
        if (this.state === 'open') {
          await this.reconnect(
            this.r.SCARD_LEAVE_CARD,
            'shared',
            `end transaction on "${this.reader}"`,
          );
        }
      }
    });
    this.transactions = run.catch(() => undefined);
    return run;
  }

  async close(disposition: Disposition = 'reset'): Promise<void> {
    if (this.state === 'closed') return;
    const wasBroken = this.state === 'broken';
    this.state = 'closed';
    this.host.released(this);
    await this.switching;
    try {
      await this.disconnect(
        dispositionCode(this.r, disposition),
        `disconnect from "${this.reader}"`,
      );
    } catch (e) {
      // A card that is gone keeps no state; anything else is reported (state may remain).
      const gone =
        e instanceof CardTransportError &&
        ['card-removed', 'no-card', 'no-reader', 'closed'].includes(e.code);
      if (!gone && !wasBroken) throw e;
    }
  }
}
