/**
 * Readers and the custodian card: which reader is used, what the card says about itself
 * (genuine chain, PIN status and retries, PKA key), creating the key and exporting `.pka`.
 * PINs pass through `createKey` to main and are not kept.
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import type { IpcError } from '../../shared/ipc/errors';
import type { CardView, ReaderView } from '../../shared/ipc/model';

/** Card state. */
export type CardState = {
  readonly readers: readonly ReaderView[];
  readonly reader: string | null;
  readonly card: CardView | null;
  readonly busy: 'readers' | 'inspect' | 'create' | 'export' | null;
  readonly error: IpcError | null;
  readonly exported: string | null;
  refresh(): Promise<void>;
  select(reader: string): Promise<void>;
  setReaders(readers: readonly ReaderView[]): void;
  createKey(label: string, pin?: string): Promise<boolean>;
  exportPka(): Promise<void>;
  /** Records the tries left the card reported after a wrong PIN elsewhere. */
  noteRetries(retries: number): void;
};

/** Creates the card store. */
export function createCardStore(api: CustodianApi): StoreApi<CardState> {
  const store = createStore<CardState>()((set, get) => ({
    readers: [],
    reader: null,
    card: null,
    busy: null,
    error: null,
    exported: null,
    async refresh() {
      set({ busy: 'readers', error: null });
      const r = await api.listReaders();
      if (!r.ok) {
        set({ busy: null, error: r.error, readers: [], card: null });
        return;
      }
      set({ busy: null });
      get().setReaders(r.value);
      const reader = get().reader;
      if (reader !== null) await get().select(reader);
    },
    setReaders(readers) {
      const current = get().reader;
      const keep = readers.find((r) => r.name === current && r.cardPresent);
      const pick = keep ?? readers.find((r) => r.cardPresent);
      set({ readers, reader: pick?.name ?? null, card: pick === undefined ? null : get().card });
    },
    async select(reader) {
      set({ reader, busy: 'inspect', error: null, exported: null });
      const r = await api.inspectCard({ reader });
      if (get().reader !== reader) return;
      if (r.ok) set({ busy: null, card: r.value });
      else set({ busy: null, card: null, error: r.error });
    },
    async createKey(label, pin) {
      const reader = get().reader;
      if (reader === null) return false;
      set({ busy: 'create', error: null });
      const r = await api.createKey(pin === undefined ? { reader, label } : { reader, label, pin });
      if (r.ok) {
        set({ busy: null, card: r.value });
        return true;
      }
      if (r.error.retriesLeft !== undefined) get().noteRetries(r.error.retriesLeft);
      set({ busy: null, error: r.error });
      return false;
    },
    async exportPka() {
      const reader = get().reader;
      if (reader === null) return;
      set({ busy: 'export', error: null, exported: null });
      const r = await api.exportPka({ reader });
      if (r.ok) set({ busy: null, exported: r.value.saved ? r.value.fileName : null });
      else set({ busy: null, error: r.error });
    },
    noteRetries(retries) {
      const card = get().card;
      if (card === null) return;
      set({
        card: {
          ...card,
          pin: { state: retries === 0 ? 'blocked' : 'not-verified', retries },
        },
      });
    },
  }));
  return store;
}
