/**
 * Creates every feature store for one bridge and connects main's push events to them.
 * @module
 */
import type { StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import { createAlertsStore, type AlertsState } from './alerts-store';
import { createAppStore, routeOf, type AppState } from './app-store';
import { createCardStore, type CardState } from './card-store';
import { createCeremoniesStore, type CeremoniesState } from './ceremonies-store';
import { createAuditStore, createTraceStore, type AuditState, type TraceState } from './log-stores';
import { createServersStore, type ServersState } from './servers-store';
import { createSettingsStore, type SettingsState } from './settings-store';

/** All stores of the renderer. */
export type Stores = {
  readonly app: StoreApi<AppState>;
  readonly servers: StoreApi<ServersState>;
  readonly card: StoreApi<CardState>;
  readonly ceremonies: StoreApi<CeremoniesState>;
  readonly trace: StoreApi<TraceState>;
  readonly audit: StoreApi<AuditState>;
  readonly settings: StoreApi<SettingsState>;
  readonly alerts: StoreApi<AlertsState>;
  /** Unsubscribes from all events. */
  dispose(): void;
};

/** Creates the stores and subscribes them to the bridge's events (`now`: the local clock). */
export function createStores(api: CustodianApi, now: () => number = Date.now): Stores {
  const app = createAppStore(api, now);
  const ceremonies = createCeremoniesStore(api, now);
  const card = createCardStore(api);
  const trace = createTraceStore(api);
  const alerts = createAlertsStore(api);
  const unsubscribe = [
    api.onCeremonies((list) => ceremonies.getState().setList(list)),
    api.onReaders((readers) => {
      card.getState().setReaders(readers);
      const reader = card.getState().reader;
      if (reader !== null && card.getState().card?.reader !== reader) {
        void card.getState().select(reader);
      }
    }),
    api.onServers((servers) => app.getState().setServers(servers)),
    api.onTrace((entry) => trace.getState().append(entry)),
    api.onNavigate((nav) => app.getState().navigate(routeOf(nav))),
    api.onAlerts((list) => alerts.getState().setAlerts(list)),
  ];
  // One source of truth for card presence: a card error shown anywhere re-reads the readers
  // from main, so the card view never says "card inserted" next to "card removed".
  const cardLost = (e: { code: string } | null) =>
    e !== null && (e.code === 'card-removed' || e.code === 'card-no-answer');
  const unwatch = ceremonies.subscribe((s, prev) => {
    if (s.detailError !== prev.detailError && cardLost(s.detailError)) {
      void card.getState().refresh();
    }
  });
  unsubscribe.push(unwatch);
  return {
    app,
    servers: createServersStore(api),
    card,
    ceremonies,
    trace,
    audit: createAuditStore(api),
    settings: createSettingsStore(api),
    alerts,
    dispose: () => unsubscribe.forEach((u) => u()),
  };
}
