/**
 * A {@link CardTransport} over an in-process {@link VirtualCard}: the card logic runs in the
 * same process, so tests and demos need no pcscd. Transactions are serialised with a mutex.
 * @module
 */
import {
  CardTransportError,
  type CardTransport,
  type Disposition,
} from '../../core/card/transport';
import type { VirtualCard } from '../virtual-card';

/** Connects to `card` (powers it on) and returns a transport. */
export function createInProcessTransport(card: VirtualCard): CardTransport {
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  card.powerOn();
  const live = (): void => {
    if (closed) throw new CardTransportError('closed', 'the card connection is closed');
  };
  return {
    get atr(): Uint8Array {
      return card.atr();
    },
    async transmit(apdu: Uint8Array): Promise<Uint8Array> {
      live();
      if (!(apdu instanceof Uint8Array) || apdu.length < 4) {
        throw new CardTransportError('protocol', 'a command APDU has at least 4 bytes');
      }
      return card.process(apdu.slice());
    },
    async reset(): Promise<Uint8Array> {
      live();
      card.reset();
      return card.atr();
    },
    async close(disposition: Disposition = 'reset'): Promise<void> {
      if (closed) return;
      closed = true;
      if (disposition === 'reset') card.reset();
      else if (disposition === 'unpower') card.powerOff();
    },
    transaction<T>(fn: () => Promise<T>): Promise<T> {
      const run = queue.then(() => {
        live();
        return fn();
      });
      // The next transaction waits for this one whether it succeeds or fails.
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
