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

/** Connects to `card` (powers it on) and returns a transport, optionally with a PIN pad. */
export function createInProcessTransport(
  card: VirtualCard,
  options: { readonly pinPad?: EmulatedPinPad } = {},
): CardTransport {
  let closed = false;
  // The pending PIN-pad entry's cancel (SCardCancel's counterpart), if one is pending.
  let cancelEntry: (() => void) | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  card.powerOn();
  const live = (): void => {
    if (closed) throw new CardTransportError('closed', 'the card connection is closed');
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
