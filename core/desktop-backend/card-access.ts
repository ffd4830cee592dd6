/**
 * How the desktop backend reaches custodian cards: a small port (list readers, open one reader's
 * card exclusively, hear about insert/remove) with a PC/SC implementation over core/pcsc. Tests
 * and the UI suite pass emulated cards through the same port, so the backend never knows which
 * it has.
 * @module
 */
import type { CardTransport } from '../card/transport';
import { FEATURE } from '../pcsc/features';
import type { Pcsc, PcscCard } from '../pcsc/pcsc-adapter';

/** A reader as the backend reports it. */
export type ReaderInfo = {
  readonly name: string;
  readonly cardPresent: boolean;
  /** The reader has a PIN pad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT), when known. */
  readonly pinPad: boolean;
};

/** A card connection plus whether its reader has a PIN pad. */
export type OpenedCard = CardTransport & {
  /** PC/SC part 10 features (tag → control code); absent for emulated cards. */
  features?(): Promise<ReadonlyMap<number, number>>;
};

/** The card port. */
export type CardAccess = {
  listReaders(): Promise<ReaderInfo[]>;
  /** Opens the card in `reader` exclusively; closing the transport releases it (reset). */
  open(reader: string): Promise<OpenedCard>;
  /** Calls `onChange` after a reader or card came or went; returns the unsubscribe. */
  watch?(onChange: () => void): () => void;
  /** Releases everything (app shutdown). */
  close?(): Promise<void>;
};

/** True when the reader reports FEATURE_VERIFY_PIN_DIRECT (PC/SC part 10 §2.3). */
export async function hasPinPad(card: OpenedCard): Promise<boolean> {
  if (!card.features || !card.control) return false;
  try {
    return (await card.features()).has(FEATURE.VERIFY_PIN_DIRECT);
  } catch {
    return false;
  }
}

/**
 * PC/SC card access: one long-lived context (opened on first use) whose event stream tracks
 * which readers hold a card; every `open` connects exclusively, so no other program can use or
 * observe the PIN state an approval builds up (docs/card-reference.md §1.3).
 */
export function pcscCardAccess(openPcsc: () => Promise<Pcsc>): CardAccess {
  let context: Promise<Pcsc> | undefined;
  const present = new Map<string, boolean>();
  const pinPads = new Map<string, boolean>();
  const listeners = new Set<() => void>();
  let stopWatch: (() => void) | undefined;

  const pcsc = (): Promise<Pcsc> => {
    context ??= openPcsc().then(
      (p) => {
        stopWatch = p.watch((e) => {
          if (e.type === 'reader-added') present.set(e.reader, present.get(e.reader) ?? false);
          else if (e.type === 'reader-removed') present.delete(e.reader);
          else present.set(e.reader, e.type === 'card-inserted');
          for (const l of listeners) l();
        });
        return p;
      },
      (e: unknown) => {
        context = undefined; // try again next time (pcscd may start later)
        throw e;
      },
    );
    return context;
  };

  return {
    async listReaders() {
      const p = await pcsc();
      const names = await p.listReaders();
      return names.map((name) => ({
        name,
        cardPresent: present.get(name) ?? false,
        pinPad: pinPads.get(name) ?? false,
      }));
    },
    async open(reader) {
      const p = await pcsc();
      const card: PcscCard = await p.connect(reader, { share: 'exclusive' });
      const opened: OpenedCard = {
        get atr() {
          return card.atr;
        },
        transmit: (apdu) => card.transmit(apdu),
        reset: () => card.reset(),
        transaction: (fn) => card.transaction(fn),
        features: async () => {
          const f = await card.features();
          pinPads.set(reader, f.has(FEATURE.VERIFY_PIN_DIRECT));
          return f;
        },
        ...(card.control
          ? { control: (code: number, data: Uint8Array) => card.control!(code, data) }
          : {}),
        close: (disposition) => card.close(disposition ?? 'reset'),
      };
      return opened;
    },
    watch(onChange) {
      listeners.add(onChange);
      void pcsc().catch(() => undefined);
      return () => void listeners.delete(onChange);
    },
    async close() {
      stopWatch?.();
      const p = context;
      context = undefined;
      if (p) await (await p.catch(() => undefined))?.close();
    },
  };
}

/** Runs tasks one after another (card work must never interleave). */
export function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}
