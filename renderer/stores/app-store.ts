/**
 * Navigation and app-wide state: which view shows, the overview loaded at start (servers,
 * settings, version) and whether the first-run flow is needed.
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import type { IpcError } from '../../shared/ipc/errors';
import type { NavigateRequest, ServerView, Settings, ViewName } from '../../shared/ipc/model';
import { DEFAULT_SETTINGS } from '../../shared/ipc/defaults';

/** A view of the renderer: the contract's views plus the approval result. */
export type Route = { readonly view: ViewName | 'result'; readonly ceremonyId?: string };

/** App state. */
export type AppState = {
  readonly status: 'loading' | 'ready' | 'failed';
  readonly route: Route;
  readonly servers: readonly ServerView[];
  readonly settings: Settings;
  readonly version: string;
  /** False when main has no system tray (Settings says so); undefined: not known. */
  readonly trayAvailable: boolean | undefined;
  readonly error: IpcError | null;
  /**
   * Since when each server that is not connected has been so (ISO time, by this computer's
   * clock); absent for connected servers.
   */
  readonly disconnectedSince: Readonly<Record<string, string>>;
  load(): Promise<void>;
  navigate(route: Route): void;
  setServers(servers: readonly ServerView[]): void;
  setSettings(settings: Settings): void;
};

/** Creates the app store. */
export function createAppStore(
  api: CustodianApi,
  now: () => number = Date.now,
): StoreApi<AppState> {
  const sinceOf = (
    servers: readonly ServerView[],
    before: Readonly<Record<string, string>>,
  ): Record<string, string> =>
    Object.fromEntries(
      servers
        .filter((s) => s.state !== 'connected')
        .map((s) => [s.id, before[s.id] ?? new Date(now()).toISOString()]),
    );
  return createStore<AppState>()((set, get) => ({
    disconnectedSince: {},
    status: 'loading',
    route: { view: 'ceremonies' },
    servers: [],
    settings: DEFAULT_SETTINGS,
    version: '',
    trayAvailable: undefined,
    error: null,
    async load() {
      set({ status: 'loading', error: null });
      const overview = await api.getOverview();
      if (!overview.ok) {
        set({ status: 'failed', error: overview.error });
        return;
      }
      const { servers, settings, version, trayAvailable } = overview.value;
      set({
        trayAvailable,
        status: 'ready',
        disconnectedSince: sinceOf(servers, get().disconnectedSince),
        servers,
        settings,
        version,
        route: servers.length === 0 ? { view: 'first-run' } : get().route,
      });
    },
    navigate(route) {
      set({ route });
    },
    setServers(servers) {
      set({ servers, disconnectedSince: sinceOf(servers, get().disconnectedSince) });
    },
    setSettings(settings) {
      set({ settings });
    },
  }));
}

/** Converts a main-process navigation request into a route. */
export function routeOf(nav: NavigateRequest): Route {
  return nav.ceremonyId === undefined
    ? { view: nav.view }
    : { view: nav.view, ceremonyId: nav.ceremonyId };
}
