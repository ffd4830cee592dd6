/**
 * Security alerts (offers the engine refused, servers it gave up on), kept current by main's
 * push events, and "Decline & report". The alerts themselves are main's; this store only adds
 * which ones the custodian has already seen in this window (a seen alert stays listed but is
 * no longer announced to screen readers as new).
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import type { IpcError } from '../../shared/ipc/errors';
import type { SecurityAlert } from '../../shared/ipc/trust-model';

/** Alerts state. */
export type AlertsState = {
  readonly alerts: readonly SecurityAlert[];
  readonly error: IpcError | null;
  /** The alert whose "Decline & report" is running. */
  readonly reporting: string | null;
  /** Alert ids already on screen once (not announced again). */
  readonly seen: ReadonlySet<string>;
  refresh(): Promise<void>;
  setAlerts(alerts: readonly SecurityAlert[]): void;
  /** "Decline & report"; resolves true when main confirmed. */
  report(alertId: string): Promise<boolean>;
  markSeen(ids: readonly string[]): void;
};

/** Creates the alerts store. */
export function createAlertsStore(api: CustodianApi): StoreApi<AlertsState> {
  return createStore<AlertsState>()((set, get) => ({
    alerts: [],
    error: null,
    reporting: null,
    seen: new Set(),
    async refresh() {
      const r = await api.listAlerts();
      if (r.ok) set({ alerts: r.value, error: null });
      else set({ error: r.error });
    },
    setAlerts(alerts) {
      set({ alerts, error: null });
    },
    async report(alertId) {
      if (get().reporting !== null) return false;
      set({ reporting: alertId, error: null });
      const r = await api.reportAlert({ alertId });
      if (!r.ok) {
        set({ reporting: null, error: r.error });
        return false;
      }
      const updated = r.value.alert;
      set({
        reporting: null,
        alerts: get().alerts.map((a) => (a.id === updated.id ? updated : a)),
      });
      return true;
    },
    markSeen(ids) {
      const seen = get().seen;
      if (ids.every((id) => seen.has(id))) return;
      set({ seen: new Set([...seen, ...ids]) });
    },
  }));
}
