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

/** PC/SC part 10 feature tag of VERIFY_PIN_DIRECT. */
const FEATURE_VERIFY_PIN_DIRECT = 0x06;

/**
 * A PIN pad on the emulated reader (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT): `enter` is the
 * person at the keypad — the PIN's bytes, or undefined for the reader's own Cancel key.
 */
export type EmulatedPinPad = { enter(): Promise<Uint8Array | undefined> };

/** The control code the emulated reader announces for VERIFY_PIN_DIRECT. */
const PINPAD_CONTROL = 0x42330006;
/** PIN_VERIFY_STRUCTURE header bytes before the APDU (PC/SC part 10 §2.5.2). */
const VERIFY_STRUCTURE_HEADER = 19;

/** How the in-process transport behaves. */
export type InProcessOptions = {
  /** A PIN pad on the emulated reader. */
  readonly pinPad?: EmulatedPinPad;
  /**
   * Whether each APDU and reset waits for the next event-loop turn first, as real I/O does
   * (default true). False answers within the caller's microtasks: never yields to timers or
   * sockets during an APDU sequence.
   */
  readonly yieldPerApdu?: boolean;
};

/** Connects to `card` (powers it on) and returns a transport, optionally with a PIN pad. */
export function createInProcessTransport(
  card: VirtualCard,
  options: InProcessOptions = {},
): CardTransport {
  const yieldPerApdu = options.yieldPerApdu ?? true;
  let closed = false;
  // The pending PIN-pad entry's cancel (SCardCancel's counterpart), if one is pending.
  let cancelEntry: (() => void) | undefined;
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
  const pinPadPort = (pad: EmulatedPinPad) => ({
    features: async () => new Map([[FEATURE_VERIFY_PIN_DIRECT, PINPAD_CONTROL]]),
    async control(code: number, data: Uint8Array): Promise<Uint8Array> {
      live();
      if (code !== PINPAD_CONTROL || data.length < VERIFY_STRUCTURE_HEADER + 4)
        throw new CardTransportError('protocol', `control 0x${code.toString(16)} is not supported`);
      const cancelled = new Promise<'cancelled'>((resolve) => {
        cancelEntry = () => resolve('cancelled');
      });
      const typed = await Promise.race([pad.enter(), cancelled]).finally(() => {
        cancelEntry = undefined;
      });
      // 64 01: the entry was cancelled (PC/SC part 10 §2.5.2).
      if (typed === 'cancelled' || typed === undefined) return Uint8Array.of(0x64, 0x01);
      const header = data.subarray(VERIFY_STRUCTURE_HEADER, VERIFY_STRUCTURE_HEADER + 4);
      const apdu = new Uint8Array(5 + typed.length);
      apdu.set(header);
      apdu[4] = typed.length;
      apdu.set(typed, 5);
      typed.fill(0);
      return card.process(apdu);
    },
    cancelControl(): void {
      cancelEntry?.();
    },
  });
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
    ...(options.pinPad === undefined ? {} : pinPadPort(options.pinPad)),
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
