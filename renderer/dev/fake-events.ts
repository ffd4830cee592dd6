/**
 * Event subscriptions for the fake bridge: one listener set per event method.
 * @module
 */
import type { CustodianApi, PayloadOf } from '../../shared/ipc/contract';
import { EVENT_METHODS, type EventMethod } from '../../shared/ipc/channels';

/** A small event hub implementing the contract's `on…` methods. */
export function createEventHub(): {
  emit<E extends EventMethod>(method: E, payload: PayloadOf<E>): void;
  subscriptions: Pick<CustodianApi, EventMethod>;
} {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const subscriptions = Object.fromEntries(
    EVENT_METHODS.map((m) => [
      m,
      (listener: (payload: unknown) => void) => {
        const set = listeners.get(m) ?? new Set();
        set.add(listener);
        listeners.set(m, set);
        return () => {
          set.delete(listener);
        };
      },
    ]),
  ) as unknown as Pick<CustodianApi, EventMethod>;
  return {
    emit(method, payload) {
      for (const l of listeners.get(method) ?? []) l(payload);
    },
    subscriptions,
  };
}
