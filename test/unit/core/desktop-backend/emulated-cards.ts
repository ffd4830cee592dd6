/**
 * Emulated card readers for the engine backend's tests and the real-engine UI suite: each
 * reader holds an emulated SmartCard-HSM (or nothing); `open` gives a fresh in-process
 * connection, like an exclusive PC/SC connect.
 */
import type {
  CardAccess,
  OpenedCard,
  ReaderInfo,
} from '../../../../core/desktop-backend/card-access';
import { CardTransportError } from '../../../../core/card/transport';
import type { VirtualCard } from '../../../../emulator/virtual-card';
import {
  createInProcessTransport,
  type EmulatedPinPad,
} from '../../../../emulator/transport/in-process';

/** A reader slot: a card can be inserted and removed at run time; optionally a PIN pad. */
export type EmulatedReader = {
  name: string;
  card: VirtualCard | undefined;
  opens: number;
  pinPad?: EmulatedPinPad;
};

/** Card access over emulated readers; `changed()` tells watchers about an insert/remove. */
export function emulatedCardAccess(readers: EmulatedReader[]): CardAccess & { changed(): void } {
  const watchers = new Set<() => void>();
  return {
    async listReaders(): Promise<ReaderInfo[]> {
      return readers.map((r) => ({
        name: r.name,
        cardPresent: r.card !== undefined,
        pinPad: r.pinPad !== undefined,
      }));
    },
    async open(name): Promise<OpenedCard> {
      const r = readers.find((x) => x.name === name);
      if (!r) throw new CardTransportError('no-reader', `no reader named "${name}"`);
      if (!r.card) throw new CardTransportError('no-card', `no card in "${name}"`);
      r.opens += 1;
      return createInProcessTransport(r.card, r.pinPad ? { pinPad: r.pinPad } : {});
    },
    watch(onChange) {
      watchers.add(onChange);
      return () => void watchers.delete(onChange);
    },
    changed() {
      for (const w of watchers) w();
    },
  };
}
