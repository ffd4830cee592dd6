/**
 * A {@link CardTransport} over an in-process {@link VirtualCard}: the card logic runs in the
 * same process, so tests and demos need no pcscd. Transactions are serialised with a mutex.
 *
 * Like real card I/O (PC/SC, vpcd), every APDU and reset completes in a later turn of the event
 * loop (`setImmediate`), so a long APDU sequence lets timers, sockets and other cards run in
 * between instead of holding the loop for the whole sequence (issue 12 §3: a thousand custodians
 * and fifty emulated targets in one server process). `{ yieldPerApdu: false }` keeps the old
 * microtask-only behaviour for the few callers that need it.
 * @module
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  CardTransportError,
  type CardTransport,
  type Disposition,
} from '../../core/card/transport';
import type { VirtualCard } from '../virtual-card';

/** How the in-process transport schedules card work. */
export type InProcessOptions = {
  /**
   * Whether each APDU and reset waits for the next event-loop turn first, as real I/O does
   * (default true). False answers within the caller's microtasks: never yields to timers or
   * sockets during an APDU sequence.
   */
  readonly yieldPerApdu?: boolean;
};

/** Connects to `card` (powers it on) and returns a transport. */
export function createInProcessTransport(
  card: VirtualCard,
  options: InProcessOptions = {},
): CardTransport {
  const yieldPerApdu = options.yieldPerApdu ?? true;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  card.powerOn();
  const live = (): void => {
    if (closed) throw new CardTransportError('closed', 'the card connection is closed');
  };
  /** The I/O turn: later, and the connection must still be open when it comes. */
  const io = async (): Promise<void> => {
    live();
    if (!yieldPerApdu) return;
    await nextTurn();
    live();
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
      const command = apdu.slice();
      await io();
      return card.process(command);
    },
    async reset(): Promise<Uint8Array> {
      await io();
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
