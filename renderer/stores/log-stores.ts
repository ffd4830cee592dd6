/**
 * The two read-only logs: the APDU trace (what the server asked the card to run, forwarded or
 * blocked — docs/card-reference.md §12) and the hash-chained audit log with its verify button.
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import type { IpcError } from '../../shared/ipc/errors';
import type { AuditEntryView, AuditVerifyView, TraceEntry } from '../../shared/ipc/model';

/** Trace lines kept in the renderer. */
export const TRACE_LIMIT = 2000;

/** Trace filter. */
export type TraceFilter = 'all' | 'forwarded' | 'blocked';

/** APDU trace state. */
export type TraceState = {
  readonly entries: readonly TraceEntry[];
  readonly filter: TraceFilter;
  readonly error: IpcError | null;
  refresh(): Promise<void>;
  append(entry: TraceEntry): void;
  setFilter(filter: TraceFilter): void;
};

/** Creates the trace store. */
export function createTraceStore(api: CustodianApi): StoreApi<TraceState> {
  return createStore<TraceState>()((set, get) => ({
    entries: [],
    filter: 'all',
    error: null,
    async refresh() {
      const r = await api.listTrace({ limit: TRACE_LIMIT });
      if (r.ok) set({ entries: r.value.slice(-TRACE_LIMIT), error: null });
      else set({ error: r.error });
    },
    append(entry) {
      const entries = get().entries;
      if (entries.some((e) => e.seq === entry.seq)) return;
      set({ entries: [...entries, entry].slice(-TRACE_LIMIT) });
    },
    setFilter(filter) {
      set({ filter });
    },
  }));
}

/** The entries a filter shows. */
export function filterTrace(entries: readonly TraceEntry[], filter: TraceFilter): TraceEntry[] {
  return filter === 'all' ? [...entries] : entries.filter((e) => e.decision === filter);
}

/** Audit log state. */
export type AuditState = {
  readonly entries: readonly AuditEntryView[];
  readonly verification: AuditVerifyView | null;
  readonly verifying: boolean;
  readonly error: IpcError | null;
  refresh(): Promise<void>;
  verify(): Promise<void>;
};

/** Creates the audit store. */
export function createAuditStore(api: CustodianApi): StoreApi<AuditState> {
  return createStore<AuditState>()((set) => ({
    entries: [],
    verification: null,
    verifying: false,
    error: null,
    async refresh() {
      const r = await api.listAudit({ limit: 500 });
      if (r.ok) set({ entries: r.value, error: null });
      else set({ error: r.error });
    },
    async verify() {
      set({ verifying: true, verification: null, error: null });
      const r = await api.verifyAudit();
      if (r.ok) set({ verifying: false, verification: r.value });
      else set({ verifying: false, error: r.error });
    },
  }));
}
