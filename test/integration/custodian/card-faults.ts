/**
 * Card faults for approval tests: a card pulled out while the PIN is presented, a reader
 * another program holds, a driver that fails without a transport error.
 */
import { CardTransportError, type CardTransport } from '../../../core/card/transport';

/** The card from `open`, pulled out when the PIN is presented (VERIFY, INS 20) once `when` resolves. */
export function removedAtVerify(
  open: () => Promise<CardTransport>,
  when: Promise<unknown> = Promise.resolve(),
): () => Promise<CardTransport> {
  return async () => {
    const inner = await open();
    return {
      ...inner,
      get atr() {
        return inner.atr;
      },
      transmit: async (apdu) => {
        if (apdu[1] === 0x20) {
          await when;
          throw new CardTransportError('card-removed', 'the card was removed');
        }
        return inner.transmit(apdu);
      },
      transaction: (fn) => inner.transaction(fn),
      close: (d) => inner.close(d),
      reset: () => inner.reset(),
    };
  };
}

/** A reader another program holds exclusively. */
export const busyReader = (): Promise<CardTransport> =>
  Promise.reject(new CardTransportError('sharing-violation', 'another program uses the card'));

/** A card whose driver fails (plain Error, no transport code) once `when` resolves. */
export function brokenDriver(when: Promise<unknown>): () => Promise<CardTransport> {
  return async () => ({
    atr: Uint8Array.of(0x3b),
    transmit: async () => {
      await when;
      throw new Error('driver bug');
    },
    transaction: (fn) => fn(),
    close: async () => undefined,
    reset: async () => Uint8Array.of(0x3b),
  });
}
