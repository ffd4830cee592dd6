/**
 * PC/SC access through the `pcsclite` native module. This is the ONLY file that loads it, and
 * only lazily inside {@link openPcsc}, so nothing else in the project needs the native binding
 * (the emulator, the server and the tests run without it).
 * @module
 */
import { CardTransportError } from '../card/transport';
import { mapPcscError, NO_NATIVE_MODULE_MESSAGE } from './pcsc-errors';
import { PcscCardImpl, type CardHost, type PcscCard } from './pcsc-card';
import { connectReader, type ShareMode } from './reader-calls';
import type {
  PcscliteContext,
  PcscliteFactory,
  PcscliteReader,
  PcscliteStatus,
} from './pcsclite-types';
import { withTimeout } from './timeout';
import { ReaderTracker, type PcscEvent } from './reader-tracker';

export type { PcscCard } from './pcsc-card';
export type { ShareMode } from './reader-calls';
export type { PcscEvent } from './reader-tracker';

/** Options of {@link openPcsc}. */
export type PcscOptions = {
  /** Loads the pcsclite module (default: `import('pcsclite')`); tests inject fakes here. */
  readonly loader?: () => Promise<unknown>;
  /** Deadlines in milliseconds; every native call has one. */
  readonly timeouts?: Partial<PcscTimeouts>;
  /** Platform for SCARD_CTL_CODE when the module lacks it (default: process.platform). */
  readonly platform?: string;
};

/** Deadlines in milliseconds. */
export type PcscTimeouts = {
  /** First reader list from pcscd. */
  readonly readyMs: number;
  readonly connectMs: number;
  /** One APDU (generous: on-card RSA key generation takes long). */
  readonly transmitMs: number;
  readonly controlMs: number;
  readonly disconnectMs: number;
};

const DEFAULT_TIMEOUTS: PcscTimeouts = {
  readyMs: 5000,
  connectMs: 10_000,
  transmitMs: 120_000,
  controlMs: 10_000,
  disconnectMs: 10_000,
};

/** Options of {@link Pcsc.connect}. */
export type ConnectOptions = {
  /**
   * `exclusive` (default) keeps other applications away from the card for the whole session,
   * so nobody can use or observe the authentication state this session builds up.
   */
  readonly share?: ShareMode;
  /** Deadline for the connect itself (default from openPcsc). */
  readonly timeoutMs?: number;
  /** Deadline per APDU on this card (default from openPcsc). */
  readonly transmitTimeoutMs?: number;
};

/** An open PC/SC context. */
export type Pcsc = {
  /** Names of the readers pcscd knows. */
  listReaders(): Promise<string[]>;
  /**
   * Subscribes to reader and card events. The current state is replayed synchronously first
   * (reader-added, then card-inserted for readers holding a card). Returns the unsubscribe.
   */
  watch(listener: (e: PcscEvent) => void): () => void;
  /** Connects to the card in `reader`. */
  connect(reader: string, options?: ConnectOptions): Promise<PcscCard>;
  /** Closes every card (RESET) and the context. */
  close(): Promise<void>;
};

const defaultLoader = async (): Promise<unknown> => {
  // A variable specifier keeps bundlers and tsc from resolving the optional native module.
  const name = 'pcsclite';
  return import(/* @vite-ignore */ name);
};

/** Finds the factory in whatever shape the module loader returned (CJS via ESM: `default`). */
function factoryOf(mod: unknown): PcscliteFactory | undefined {
  if (typeof mod === 'function') return mod as PcscliteFactory;
  if (typeof mod === 'object' && mod !== null && 'default' in mod) {
    const d = (mod as { default: unknown }).default;
    if (typeof d === 'function') return d as PcscliteFactory;
  }
  return undefined;
}

/**
 * Opens a PC/SC context. Rejects with CardTransportError `no-native-module` when pcsclite
 * cannot be loaded and `no-service` when pcscd is not running.
 */
export async function openPcsc(options: PcscOptions = {}): Promise<Pcsc> {
  let mod: unknown;
  try {
    mod = await (options.loader ?? defaultLoader)();
  } catch (e) {
    throw new CardTransportError('no-native-module', NO_NATIVE_MODULE_MESSAGE, { cause: e });
  }
  const factory = factoryOf(mod);
  if (factory === undefined) {
    throw new CardTransportError(
      'no-native-module',
      `${NO_NATIVE_MODULE_MESSAGE} (unexpected module shape)`,
    );
  }
  let ctx: PcscliteContext;
  try {
    ctx = factory();
  } catch (e) {
    throw mapPcscError(e, 'open PC/SC context');
  }
  return new PcscContextImpl(
    ctx,
    { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    options.platform ?? process.platform,
  );
}

class PcscContextImpl implements Pcsc {
  private readonly tracker = new ReaderTracker();
  private readonly readers = new Map<string, PcscliteReader>();
  private readonly cards = new Map<string, PcscCardImpl>();
  private fatal: CardTransportError | undefined;
  private closed = false;
  private readonly ready: Promise<void>;
  private readonly host: CardHost;

  constructor(
    private readonly ctx: PcscliteContext,
    private readonly timeouts: PcscTimeouts,
    platform: string,
  ) {
    let markReady: () => void = () => undefined;
    this.ready = new Promise<void>((r) => (markReady = r));
    ctx.on('error', (e: Error) => {
      this.fatal = mapPcscError(e, 'PC/SC context');
      this.tracker.dropAll();
      markReady();
    });
    ctx.on('reader', (r: PcscliteReader) => this.adopt(r));
    const start = ctx.start;
    if (typeof start === 'function') {
      // The module starts its reader watcher on the next tick; wrapping start lets the reader
      // list itself (not the module's derived events) drive reader-added/removed, and tells
      // when the first list has arrived.
      ctx.start = (cb) =>
        start.call(ctx, (err, names) => {
          cb(err, names);
          if (!err) this.tracker.setReaders(parseReaderList(names));
          markReady();
        });
    } else {
      setTimeout(markReady, 250);
    }
    this.host = {
      platform,
      atrOf: (reader) => this.tracker.atrOf(reader, 2000),
      waitForRemoval: (reader, ms) => this.tracker.waitForRemoval(reader, ms),
      released: (card) => {
        if (this.cards.get(card.reader) === card) this.cards.delete(card.reader);
      },
    };
  }

  private adopt(r: PcscliteReader): void {
    this.readers.set(r.name, r);
    if (typeof this.ctx.start !== 'function') this.tracker.addReader(r.name);
    r.on('error', () => undefined); // status-thread errors surface as calls failing
    r.on('status', (s: PcscliteStatus) => {
      const present = (s.state & r.SCARD_STATE_PRESENT) !== 0;
      this.tracker.status(
        r.name,
        present,
        s.state >>> 16,
        s.atr === undefined ? undefined : new Uint8Array(s.atr),
      );
    });
    r.on('end', () => {
      if (this.readers.get(r.name) === r) this.readers.delete(r.name);
      this.tracker.removeReader(r.name);
    });
  }

  private usable(op: string): void {
    if (this.closed) throw new CardTransportError('closed', `${op}: PC/SC context is closed`);
    if (this.fatal !== undefined) throw this.fatal;
  }

  async listReaders(): Promise<string[]> {
    this.usable('list readers');
    await withTimeout(this.ready, this.timeouts.readyMs, 'PC/SC reader list');
    this.usable('list readers');
    return this.tracker.readerNames();
  }

  watch(listener: (e: PcscEvent) => void): () => void {
    return this.tracker.subscribe(listener);
  }

  async connect(reader: string, options: ConnectOptions = {}): Promise<PcscCard> {
    const names = await this.listReaders();
    const r = this.readers.get(reader);
    if (!names.includes(reader) || r === undefined) {
      const list = names.length > 0 ? names.map((n) => `"${n}"`).join(', ') : 'none';
      throw new CardTransportError('no-reader', `no reader named "${reader}" (available: ${list})`);
    }
    const previous = this.cards.get(reader);
    if (previous?.broken === true) {
      // A connection lost to a removal or timeout only blocks the reader: release it.
      await previous.close('leave').catch(() => undefined);
    }
    if (this.cards.has(reader)) {
      throw new CardTransportError(
        'sharing-violation',
        `this process already has a connection to "${reader}"; close it first`,
      );
    }
    const share = options.share ?? 'exclusive';
    const protocol = await connectReader(r, share, options.timeoutMs ?? this.timeouts.connectMs);
    const atr = await this.tracker.atrOf(reader, 2000);
    const card = new PcscCardImpl(r, this.host, share, protocol, atr, {
      connectMs: options.timeoutMs ?? this.timeouts.connectMs,
      transmitMs: options.transmitTimeoutMs ?? this.timeouts.transmitMs,
      controlMs: this.timeouts.controlMs,
      disconnectMs: this.timeouts.disconnectMs,
    });
    if (this.closed) {
      await card.close();
      throw new CardTransportError('closed', 'PC/SC context closed while connecting');
    }
    this.cards.set(reader, card);
    return card;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const results = await Promise.allSettled([...this.cards.values()].map((c) => c.close('reset')));
    this.tracker.dropAll();
    this.tracker.unsubscribeAll();
    for (const r of this.readers.values()) {
      try {
        r.close();
      } catch {
        // the reader thread is already gone
      }
    }
    this.readers.clear();
    try {
      this.ctx.close();
    } catch {
      // pcscd already gone: nothing left to release
    }
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}

/** Splits pcsc-lite's multi-string (`name\0name\0\0`) into names. */
export function parseReaderList(names: Uint8Array | undefined): string[] {
  if (names === undefined || names.length === 0) return [];
  return new TextDecoder()
    .decode(names)
    .split('\0')
    .filter((n) => n.length > 0);
}
