/**
 * A card-latency model for benchmarks: wraps any {@link CardTransport} (normally the in-process
 * emulator, which answers in microseconds) and makes each command take as long as it takes on a
 * SmartCard-HSM over USB. The delay depends on the instruction byte: VERIFY (INS 20) with data
 * checks a PIN (without data it only reports the PIN's status, a simple command), SIGN (INS 68, docs/card-reference.md §8.1) computes an ECDSA signature, EXTERNAL
 * AUTHENTICATE (INS 82, §6.6) verifies one; everything else (SELECT, GET CHALLENGE, MSE, READ
 * BINARY, …) is a simple command. A reset or a release with reset costs {@link CardLatency}.resetMs.
 *
 * The defaults are of the right order for a SmartCard-HSM / Nitrokey HSM 2 on USB: ~4 ms per
 * simple APDU (USB CCID round trip), ~10 ms VERIFY PIN, ~60 ms ECDSA P-256 SIGN or verification,
 * ~10 ms reset. They are a model, not a measurement of one card.
 *
 * The card is one processor: commands on one wrapped transport run one after another in the
 * order they were sent. The wrapped card sees a command as soon as the card is free, and the
 * answer is released when both the card has answered and the modelled time has passed since the
 * command started (a real timer, so the event loop keeps running). A command therefore takes
 * max(model, the emulator's own time), not their sum: the model is the whole card time, and the
 * emulator's computing (an ECDSA signature or verification takes it a few milliseconds) is not
 * charged twice.
 * @module
 */
import type { CardTransport, Disposition } from '../core/card/transport';

/** Milliseconds per command class. */
export type CardLatency = {
  /** Any command without a class of its own. */
  readonly simpleMs: number;
  /** VERIFY (INS 20) with a PIN; VERIFY without data (PIN status) is a simple command. */
  readonly verifyPinMs: number;
  /** SIGN (INS 68). */
  readonly signMs: number;
  /** EXTERNAL AUTHENTICATE (INS 82). */
  readonly externalAuthenticateMs: number;
  /** `reset()`, and `close()` with `reset` or `unpower`. */
  readonly resetMs: number;
};

/** The SmartCard-HSM-over-USB model (see the module comment). */
export const SC_HSM_USB_LATENCY: CardLatency = {
  simpleMs: 4,
  verifyPinMs: 10,
  signMs: 60,
  externalAuthenticateMs: 60,
  resetMs: 10,
};

/** No added latency: the wrapped card as fast as it is. */
export const NO_LATENCY: CardLatency = {
  simpleMs: 0,
  verifyPinMs: 0,
  signMs: 0,
  externalAuthenticateMs: 0,
  resetMs: 0,
};

/** The modelled time of command `apdu` (its INS byte decides). */
export function commandDelayMs(apdu: Uint8Array, l: CardLatency): number {
  switch (apdu[1]) {
    case 0x20:
      // Only a VERIFY that carries a PIN compares one; VERIFY without data asks for the PIN's
      // status (tries left, docs/card-reference.md §3.1), a simple command.
      return apdu.length > 5 ? l.verifyPinMs : l.simpleMs;
    case 0x68:
      return l.signMs;
    case 0x82:
      return l.externalAuthenticateMs;
    default:
      return l.simpleMs;
  }
}

const wait = (ms: number) =>
  ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

/** `inner` with each command taking its modelled time (`latency` overrides the defaults). */
export function withCardLatency(
  inner: CardTransport,
  latency: Partial<CardLatency> = {},
): CardTransport {
  const l: CardLatency = { ...SC_HSM_USB_LATENCY, ...latency };
  let busy: Promise<unknown> = Promise.resolve();
  /** Runs `step` once every earlier command is done; settles no earlier than `ms` after that. */
  const serial = <T>(ms: number, step: () => Promise<T>): Promise<T> => {
    const run = busy.then(async () => {
      const [answer] = await Promise.allSettled([step(), wait(ms)]);
      if (answer.status === 'rejected') throw answer.reason;
      return answer.value;
    });
    busy = run.catch(() => undefined);
    return run;
  };
  const wrapped: CardTransport = {
    get atr() {
      return inner.atr;
    },
    transmit: (apdu) => serial(commandDelayMs(apdu, l), () => inner.transmit(apdu)),
    reset: () => serial(l.resetMs, () => inner.reset()),
    close: (disposition: Disposition = 'reset') =>
      serial(disposition === 'leave' ? 0 : l.resetMs, () => inner.close(disposition)),
    transaction: (fn) => inner.transaction(fn),
  };
  if (inner.control) {
    const control = inner.control.bind(inner);
    wrapped.control = (code, data) => serial(l.simpleMs, () => control(code, data));
  }
  return wrapped;
}
