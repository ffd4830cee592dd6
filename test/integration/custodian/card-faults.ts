/**
 * Card faults for approval tests: a card pulled out while the PIN is presented, a reader
 * another program holds, a driver that fails without a transport error.
 */
import { CardTransportError, type CardTransport } from '../../../core/card/transport';

/** When a fake fault happens and what it waits for. */
export type FaultTiming = {
  /** The fault waits for this. */
  readonly when?: Promise<unknown>;
  /** Called right after the fault was raised. */
  readonly raised?: () => void;
  /** The connection's release waits for this (keeps the approval open meanwhile). */
  readonly releaseAfter?: Promise<unknown>;
};

/** The card from `open`, pulled out when the PIN is presented (VERIFY, INS 20). */
export function removedAtVerify(
  open: () => Promise<CardTransport>,
  timing: FaultTiming = {},
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
          await timing.when;
          setTimeout(() => timing.raised?.(), 0);
          throw new CardTransportError('card-removed', 'the card was removed');
        }
        return inner.transmit(apdu);
      },
      transaction: (fn) => inner.transaction(fn),
      close: async (d) => {
        await timing.releaseAfter;
        return inner.close(d);
      },
      reset: () => inner.reset(),
    };
  };
}

/** A reader another program holds exclusively. */
export const busyReader = (): Promise<CardTransport> =>
  Promise.reject(new CardTransportError('sharing-violation', 'another program uses the card'));

/** A card whose driver fails (plain Error, no transport code) once `when` resolves. */
export function brokenDriver(
  when: Promise<unknown> = Promise.resolve(),
): () => Promise<CardTransport> {
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
