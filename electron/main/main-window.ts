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
  dark = false,
): W {
  return new BrowserWindow({
    width: 1100,
    height: 760,
    // Usable from 640 px wide (the sidebar collapses below 900 px, styles.css).
    minWidth: 640,
    minHeight: 520,
    show: false,
    title: 'Custodian',
    // The theme's --bg (renderer/styles.css), so a dark theme never flashes white.
    backgroundColor: windowBackground(dark),
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

/** The window background of a theme: the renderer's `--bg` (renderer/styles.css). */
export function windowBackground(dark: boolean): string {
  return dark ? '#0f1318' : '#f5f6f8';
}
