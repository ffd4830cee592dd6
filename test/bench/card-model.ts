/**
 * The card-latency models every ceremony and signing figure is reported at, a way to switch the
 * demo's in-process cards between them between phases of one run, and the physical bound of a
 * ceremony under a model.
 * @module
 */
import type { CardTransport } from '../../core/card/transport';
import type { Hardware } from '../../demo/hardware';
import {
  NO_LATENCY,
  SC_HSM_USB_LATENCY,
  withCardLatency,
  type CardLatency,
} from '../../emulator/latency-transport';

/** A named model. */
export type CardModel = { readonly name: string; readonly latency: CardLatency };

/** The models of a run: the emulator as fast as it is, and a SmartCard-HSM over USB. */
export const CARD_MODELS: readonly CardModel[] = [
  { name: '0 ms cards', latency: NO_LATENCY },
  { name: 'card model', latency: SC_HSM_USB_LATENCY },
];

/** `1 × GET CHALLENGE …` in words, for the report. */
export const BOUND_FORMULA =
  'simple (target GET CHALLENGE) + RTT + VERIFY PIN + SIGN (custodian cards, in parallel) + n × (simple (MSE SET AT) + EXTERNAL AUTHENTICATE) (serial on the target)';

/**
 * The physical bound of an n-of-m ceremony: the card time that cannot be avoided on the
 * critical path plus the one network round trip (offer out, decision back). The target's GET
 * CHALLENGE comes first; the custodians' VERIFY PIN and SIGN run in parallel on their own cards;
 * the target then checks the n signatures one after another (MSE SET AT + EXTERNAL
 * AUTHENTICATE each, docs/card-reference.md §6.6).
 */
export function physicalBound(l: CardLatency, n: number, rttMs: number): number {
  return (
    l.simpleMs + rttMs + l.verifyPinMs + l.signMs + n * (l.simpleMs + l.externalAuthenticateMs)
  );
}

/** One card command as `switchableHardware` saw it: which card, INS, start and end (ms). */
export type CardCommand = { card: string; ins: number; start: number; end: number };

/**
 * `hw` with every card opened through the model `use` last chose (default: none); `onCommand`,
 * if given, sees every command that completes (ceremony-timeline.ts).
 */
export function switchableHardware(
  hw: Hardware,
  onCommand?: (c: CardCommand) => void,
): {
  hw: Hardware;
  use(latency: CardLatency): void;
} {
  let current: CardLatency = NO_LATENCY;
  const modelled = (inner: CardTransport, card: string): CardTransport => {
    // One wrapper per model over the same connection; phases switch only while cards are idle.
    const wrapped = new Map<CardLatency, CardTransport>();
    const now = () => {
      if (current === NO_LATENCY) return inner;
      let t = wrapped.get(current);
      if (!t) wrapped.set(current, (t = withCardLatency(inner, current)));
      return t;
    };
    return {
      get atr() {
        return inner.atr;
      },
      transmit: async (apdu) => {
        const start = performance.now();
        const answer = await now().transmit(apdu);
        onCommand?.({ card, ins: apdu[1] ?? 0, start, end: performance.now() });
        return answer;
      },
      reset: () => now().reset(),
      close: (d) => now().close(d),
      transaction: (fn) => inner.transaction(fn),
    };
  };
  return {
    hw: {
      ...hw,
      openTarget: async () => modelled(await hw.openTarget(), 'target'),
      custodians: hw.custodians.map((c) => ({
        ...c,
        openCard: async () => modelled(await c.openCard(), c.name),
      })),
    },
    use: (latency) => void (current = latency),
  };
}
