/**
 * The main window: one at a time, created hardened (security.ts), served from app://, and
 * hidden instead of closed when "keep running in the tray" is on. The BrowserWindow factory is
 * injected so tests run in plain Node.
 * @module
 */

/** The slice of a BrowserWindow the service uses. */
export type WindowPort = {
  readonly webContents: {
    readonly id: number;
    isDestroyed(): boolean;
    send(channel: string, payload: unknown): void;
  };
  loadURL(url: string): Promise<void>;
  show(): void;
  hide(): void;
  focus(): void;
  restore(): void;
  /** Electron's; optional so test fakes may omit it. */
  minimize?(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  /** Electron's; optional so test fakes may omit it. */
  setBackgroundColor?(color: string): void;
  on(event: 'close', listener: (e: { preventDefault(): void }) => void): unknown;
  on(event: 'closed' | 'ready-to-show', listener: () => void): unknown;
};

/** What the window service needs. */
export type WindowDeps = {
  readonly create: () => WindowPort;
  readonly entryUrl: string;
  /** The "keep running in the tray" setting. */
  readonly closeToTray: () => boolean;
  /** True once the user chose Quit (then closing really closes). */
  readonly isQuitting: () => boolean;
  readonly log?: (line: string) => void;
  /** The window was hidden to the tray for the first time in this run (one-time notice). */
  readonly onFirstHide?: () => void;
  /**
   * Whether a tray icon exists (false when Electron could not create one, e.g. GNOME without
   * the AppIndicator extension). Without it a hidden window could never be found again, so
   * closing minimizes instead (docs/desktop-app.md "Tray").
   */
  readonly trayAvailable?: () => boolean;
  /** Closing found no tray to hide into, the first time in this run (one-time notice). */
  readonly onNoTray?: () => void;
};

/** The window service. */
export type WindowService = {
  /** Shows the window, creating it when needed; resolves once the page is loaded. */
  open(): Promise<WindowPort>;
  /** The window if it exists. */
  current(): WindowPort | undefined;
  /** Web contents ids of our windows (for the IPC sender check). */
  trustedIds(): ReadonlySet<number>;
};

/** Creates the window service. */
export function createWindowService(deps: WindowDeps): WindowService {
  let win: WindowPort | undefined;
  let loading: Promise<void> | undefined;
  const ids = new Set<number>();
  let hiddenBefore = false;
  let noTrayBefore = false;
  const create = (): WindowPort => {
    const w = deps.create();
    ids.add(w.webContents.id);
    w.on('ready-to-show', () => w.show());
    w.on('close', (e) => {
      if (!deps.isQuitting() && deps.closeToTray() && deps.trayAvailable?.() === false) {
        // Keep running, but as a window the custodian can still find (taskbar), never hidden.
        e.preventDefault();
        w.minimize?.();
        deps.log?.('window: no tray, minimized instead of hidden');
        if (!noTrayBefore) {
          noTrayBefore = true;
          deps.onNoTray?.();
        }
      } else if (!deps.isQuitting() && deps.closeToTray()) {
        e.preventDefault();
        w.hide();
        deps.log?.('window: hidden to tray');
        if (!hiddenBefore) {
          hiddenBefore = true;
          deps.onFirstHide?.();
        }
      }
    });
    w.on('closed', () => {
      ids.delete(w.webContents.id);
      if (win === w) {
        win = undefined;
        loading = undefined;
      }
    });
    loading = w.loadURL(deps.entryUrl);
    return w;
  };
  return {
    async open() {
      if (win === undefined || win.isDestroyed()) win = create();
      else {
        if (win.isMinimized()) win.restore();
        win.show();
        win.focus();
      }
      const w = win;
      await loading;
      return w;
    },
    current: () => (win !== undefined && !win.isDestroyed() ? win : undefined),
    trustedIds: () => ids,
  };
}
