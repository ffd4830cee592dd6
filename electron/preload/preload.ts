/**
 * The preload: exposes `window.custodian` (named functions built from the IPC contract) in the
 * renderer's main world. Never exposes ipcRenderer itself, the IPC event object, or a generic
 * "send any channel" function. Runs sandboxed, bundled to CommonJS.
 * @module
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createCustodianApi } from '../../shared/ipc/bridge';
import { BRIDGE_GLOBAL } from '../../shared/ipc/channels';

contextBridge.exposeInMainWorld(
  BRIDGE_GLOBAL,
  createCustodianApi({
    invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
    on(channel, listener) {
      const wrapped = (_event: unknown, payload: unknown) => listener(payload);
      ipcRenderer.on(channel, wrapped);
      return () => {
        ipcRenderer.removeListener(channel, wrapped);
      };
    },
  }),
);
