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
import { mapPcscError, pcscReturnCode, SCARD } from './pcsc-errors';
import { GET_FEATURE_REQUEST_CODE, parseFeatureList, scardCtlCode } from './features';
import type { PcscliteReader } from './pcsclite-types';
import { fromCallback, withTimeout } from './timeout';

/** A card connected through PC/SC. */
export type PcscCard = CardTransport & {
  /** The reader the card sits in. */
  readonly reader: string;
  /** PC/SC part 10 features of the reader: feature tag → control code (empty when none). */
  features(): Promise<ReadonlyMap<number, number>>;
};

/** How the card may be shared with other applications. */
export type ShareMode = 'shared' | 'exclusive';

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

/** Largest R-APDU: 65536 data bytes + SW (ISO/IEC 7816-3 §12.1.3). */
const MAX_RESPONSE = 65538;
/** Largest reader control answer accepted. */
const MAX_CONTROL_RESPONSE = 65536;
/** Return codes with which readers refuse an unknown control code (pcsc-lite maps IFD errors). */
const UNSUPPORTED_CONTROL: ReadonlySet<number> = new Set([
  SCARD.E_UNSUPPORTED_FEATURE,
  SCARD.E_UNSUPPORTED_FEATURE_2,
  SCARD.E_NOT_TRANSACTED,
]);
/** How long to wait for pcscd to notice a removal after a failed exchange. */
const REMOVAL_GRACE_MS = 2000;

/** Connects to `r`; resolves with the negotiated protocol. */
export async function connectReader(
  r: PcscliteReader,
  share: ShareMode,
  timeoutMs: number,
): Promise<number> {
  const share_mode = share === 'exclusive' ? r.SCARD_SHARE_EXCLUSIVE : r.SCARD_SHARE_SHARED;
  const protocol = r.SCARD_PROTOCOL_T0 | r.SCARD_PROTOCOL_T1;
  const what = `connect to "${r.name}"`;
  try {
    return await withTimeout(
      fromCallback<number>((cb) => r.connect({ share_mode, protocol }, cb)),
      timeoutMs,
      what,
    );
  } catch (e) {
    throw mapPcscError(e, what);
  }
}

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
    // Our copies may hold PINs or keys: wiped once the native call has taken them.
    const out = Buffer.from(apdu);
    let raw: Buffer;
    try {
      raw = await withTimeout(
        fromCallback<Buffer>((cb) => this.r.transmit(out, MAX_RESPONSE, this.protocol, cb)),
        this.timeouts.transmitMs,
        what,
      );
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
    } finally {
      out.fill(0);
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
      const out = await withTimeout(
        fromCallback<Buffer>((cb) =>
          this.r.control(Buffer.from(data), code, MAX_CONTROL_RESPONSE, cb),
        ),
        this.timeouts.controlMs,
        what,
      );
      return new Uint8Array(out);
    } catch (e) {
      throw this.breakWith(mapPcscError(e, what));
    }
  }

  async features(): Promise<ReadonlyMap<number, number>> {
    const code =
      this.r.SCARD_CTL_CODE?.(GET_FEATURE_REQUEST_CODE) ??
      scardCtlCode(GET_FEATURE_REQUEST_CODE, this.host.platform);
    let answer: Uint8Array;
    try {
      answer = await this.control(code, new Uint8Array(0));
    } catch (e) {
      // A reader without part 10 support refuses the control code: it simply has no features.
      const rc = e instanceof CardTransportError ? pcscReturnCode(e.cause) : undefined;
      if (rc !== undefined && UNSUPPORTED_CONTROL.has(rc)) return new Map();
      throw e;
    }
    const parsed = parseFeatureList(answer);
    if (!parsed.ok)
      throw new CardTransportError(
        'protocol',
        `GET_FEATURE_REQUEST on "${this.reader}": ${parsed.error.message}`,
      );
    return parsed.value;
  }

  private async disconnect(disposition: number, what: string): Promise<void> {
    try {
      await withTimeout(
        fromCallback<void>((cb) => this.r.disconnect(disposition, cb)),
        this.timeouts.disconnectMs,
        what,
      );
    } catch (e) {
      throw mapPcscError(e, what);
    }
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
    const code =
      disposition === 'leave'
        ? this.r.SCARD_LEAVE_CARD
        : disposition === 'unpower'
          ? this.r.SCARD_UNPOWER_CARD
          : this.r.SCARD_RESET_CARD;
    try {
      await this.disconnect(code, `disconnect from "${this.reader}"`);
    } catch (e) {
      // A card that is gone keeps no state; anything else is reported (state may remain).
      const gone =
        e instanceof CardTransportError &&
        ['card-removed', 'no-card', 'no-reader', 'closed'].includes(e.code);
      if (!gone && !wasBroken) throw e;
    }
  }
}
