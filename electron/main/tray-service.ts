/**
 * The tray: icon with the number of waiting ceremonies, a tooltip that says it in words, and a
 * menu to open the app, jump to a waiting ceremony, or quit. Electron's Tray and Menu come in
 * through {@link TrayDeps}, so the behaviour is tested with fakes.
 * @module
 */
import { actionable, soonestExpiry } from '../../shared/ipc/ceremony-rules';
import type { CeremonySummary, NavigateRequest } from '../../shared/ipc/model';
import { displayText } from './display-text';
import { renderTrayIcon, type Bitmap } from './tray-icon';

/** A menu item as the service builds it (the subset of Electron's template it uses). */
export type TrayMenuItem =
  | { readonly type: 'separator' }
  | { readonly label: string; readonly enabled?: boolean; readonly click?: () => void };

/** The slice of Electron's Tray the service uses. */
export type TrayPort<Image, Menu> = {
  setImage(image: Image): void;
  setToolTip(text: string): void;
  setTitle(text: string): void;
  setContextMenu(menu: Menu): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
};

/** What the tray service needs. */
export type TrayDeps<Image, Menu> = {
  readonly tray: TrayPort<Image, Menu>;
  /** Turns a bitmap into a platform image (Electron: nativeImage from PNG). */
  readonly image: (bitmap: Bitmap) => Image;
  /** Builds a platform menu from the template (Electron: Menu.buildFromTemplate). */
  readonly menu: (items: readonly TrayMenuItem[]) => Menu;
  /** Opens the window, optionally on a view. */
  readonly open: (nav?: NavigateRequest) => void;
  readonly quit: () => void;
  /** Icon size in pixels (platform dependent). */
  readonly size?: number;
  /** The clock for local expiry (default Date.now). */
  readonly now?: () => number;
};

/** The tray as main uses it. */
export type TrayService = {
  /** Shows the current ceremonies (counts those waiting for this custodian). */
  update(ceremonies: readonly CeremonySummary[]): void;
  /**
   * Whether every server is connected. Not connected: a grey icon and "not connected", never
   * "nothing waiting" (the count is unknown).
   */
  setConnection(connected: boolean): void;
  /** Re-evaluates local expiry and the time left in the tooltip (call periodically). */
  refresh(): void;
  /** The count the icon shows now. */
  readonly pending: number;
  destroy(): void;
};

/** Ceremonies shown in the tray menu at most. */
const MENU_CEREMONIES = 5;

/** Creates the tray service and shows the idle icon. */
export function createTrayService<Image, Menu>(deps: TrayDeps<Image, Menu>): TrayService {
  let pending = -1;
  let lastMenuKey = '';
  let connected = true;
  let last: readonly CeremonySummary[] = [];
  let lastTip = '';
  deps.tray.on('click', () => deps.open());
  const update = (ceremonies: readonly CeremonySummary[]) => {
    // The same rule as the renderer's count: a non-genuine target is never counted.
    last = ceremonies;
    const at = (deps.now ?? Date.now)();
    const waiting = actionable(ceremonies, at);
    const shownCount = connected ? waiting.length : -2;
    if (shownCount !== pending) {
      pending = shownCount;
      deps.tray.setImage(
        deps.image(renderTrayIcon(connected ? pending : 0, deps.size ?? 32, !connected)),
      );
      deps.tray.setTitle(connected && pending > 0 ? String(pending) : '');
    }
    const soonest = soonestExpiry(ceremonies, at);
    const tip = !connected
      ? 'Custodian: not connected — requests waiting for you are unknown'
      : waiting.length === 0
        ? 'Custodian: nothing waiting'
        : `${waiting.length === 1 ? 'Custodian: 1 ceremony waits for you' : `Custodian: ${waiting.length} ceremonies wait for you`}${soonest === undefined ? '' : ` — the next expires in ${formatLeft(Date.parse(soonest) - at)}`}`;
    if (tip !== lastTip) {
      lastTip = tip;
      deps.tray.setToolTip(tip);
    }
    const shown = waiting.slice(0, MENU_CEREMONIES);
    const key = shown.map((c) => `${c.id}\u0000${c.purpose}`).join('\u0001');
    if (key === lastMenuKey && lastMenuKey !== '') return;
    lastMenuKey = key;
    const items: TrayMenuItem[] = [{ label: 'Open Custodian', click: () => deps.open() }];
    if (shown.length > 0) {
      items.push({ type: 'separator' });
      for (const c of shown) {
        items.push({
          label: `Review: ${displayText(c.purpose, 60)}`,
          click: () => deps.open({ view: 'ceremony', ceremonyId: c.id }),
        });
      }
      if (waiting.length > shown.length) {
        items.push({
          label: `All ${waiting.length} waiting ceremonies…`,
          click: () => deps.open({ view: 'ceremonies' }),
        });
      }
    }
    items.push({ type: 'separator' }, { label: 'Quit Custodian', click: () => deps.quit() });
    deps.tray.setContextMenu(deps.menu(items));
  };
  update([]);
  return {
    update,
    setConnection(next) {
      if (next === connected) return;
      connected = next;
      update(last);
    },
    refresh: () => update(last),
    get pending() {
      return connected ? pending : 0;
    },
    destroy: () => deps.tray.destroy(),
  };
}

/** "42 min", "1 h 05 min", "under a minute". */
export function formatLeft(ms: number): string {
  if (ms < 60_000) return 'under a minute';
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/**
 * Creates Electron's tray icon, or undefined when this desktop has none (creation throws, e.g.
 * no StatusNotifier host): the caller then keeps a window instead of hiding to the tray.
 */
export function openTray<T>(create: () => T, log?: (line: string) => void): T | undefined {
  try {
    return create();
  } catch (e) {
    log?.(`tray: not available (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}

/** A tray port that shows nothing, for a desktop without a tray ({@link openTray}). */
export function absentTray<Image, Menu>(): TrayPort<Image, Menu> {
  const none = () => undefined;
  return {
    setImage: none,
    setToolTip: none,
    setTitle: none,
    setContextMenu: none,
    on: none,
    destroy: none,
  };
}
