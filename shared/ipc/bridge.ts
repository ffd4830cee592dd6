/**
 * Builds the `window.custodian` API from the channel maps over any transport that can invoke a
 * channel and subscribe to one. The Electron preload passes `ipcRenderer`-backed functions; the
 * UI tests pass a loopback. Only channel names from the contract are ever used, and event
 * listeners receive the payload alone (never the IPC event object, which would leak `sender`).
 * Imports no zod, so the sandboxed preload bundle stays small.
 * @module
 */
import { EVENT_CHANNELS, INVOKE_CHANNELS, type EventMethod, type InvokeMethod } from './channels';
import type { CustodianApi } from './contract';
import { ipcError } from './errors';

/** What the bridge needs from the transport. */
export type BridgePort = {
  /** Sends a request on `channel` and resolves with main's reply. */
  invoke(channel: string, payload: unknown): Promise<unknown>;
  /** Subscribes to `channel`; returns the unsubscribe function. */
  on(channel: string, listener: (payload: unknown) => void): () => void;
};

/**
 * Creates the named-function API. A transport failure (main gone, handler missing) resolves
 * as an `unavailable` error instead of rejecting, so the UI always has words to show.
 */
export function createCustodianApi(port: BridgePort): CustodianApi {
  const api: Record<string, unknown> = {};
  for (const method of Object.keys(INVOKE_CHANNELS) as InvokeMethod[]) {
    const channel = INVOKE_CHANNELS[method];
    api[method] = async (request?: unknown) => {
      try {
        return await port.invoke(channel, request);
      } catch (cause) {
        const text = cause instanceof Error ? cause.message : 'no reply';
        return { ok: false, error: ipcError('unavailable', `${method}: ${text}`) };
      }
    };
  }
  for (const method of Object.keys(EVENT_CHANNELS) as EventMethod[]) {
    const channel = EVENT_CHANNELS[method];
    api[method] = (listener: (payload: unknown) => void) => {
      if (typeof listener !== 'function') throw new TypeError(`${method} needs a function`);
      return port.on(channel, (payload) => listener(payload));
    };
  }
  return Object.freeze(api) as CustodianApi;
}
