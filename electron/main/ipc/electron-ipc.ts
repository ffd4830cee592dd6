/**
 * Binds the IPC wrappers to Electron's real `ipcMain`. Together with ipc-main.ts and the
 * preload, the only place raw IPC appears (lint bans it elsewhere).
 * @module
 */
import { ipcMain } from 'electron';
import { registerInvokeHandlers, type InvokeHandlers } from './ipc-main';
import type { SenderInfo } from './sender-trust';

/** Registers the contract's handlers on Electron's ipcMain; returns the unregister function. */
export function bindInvokeHandlers(
  handlers: InvokeHandlers,
  isTrusted: (event: SenderInfo) => boolean,
  log: (line: string) => void,
): () => void {
  return registerInvokeHandlers(ipcMain, handlers, isTrusted, log);
}
