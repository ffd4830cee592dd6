/**
 * Options of the main window, written as one literal at the `new BrowserWindow` call so both
 * the unit tests and Electronegativity see every security flag: sandboxed, context-isolated,
 * no Node, no webviews, no middle-click windows, DevTools only in development.
 * @module
 */
import type { BrowserWindowConstructorOptions } from 'electron';

/** A BrowserWindow constructor (Electron's, or a fake in tests). */
export type WindowConstructor<W> = new (options: BrowserWindowConstructorOptions) => W;

/**
 * Creates the main window with hardened web preferences. The parameter is named like
 * Electron's class on purpose: static analysers match `new BrowserWindow(...)`.
 */
export function createMainWindow<W>(
  BrowserWindow: WindowConstructor<W>,
  preload: string,
  isDev: boolean,
): W {
  return new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 760,
    minHeight: 560,
    show: false,
    title: 'Custodian',
    backgroundColor: '#f5f6f8',
    webPreferences: {
      preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
      devTools: isDev,
    },
  });
}
