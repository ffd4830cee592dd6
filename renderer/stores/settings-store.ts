/**
 * Settings view state: saves each change through main (which persists it and applies
 * start-at-login) and reports failures in words.
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import type { IpcError } from '../../shared/ipc/errors';
import type { Settings } from '../../shared/ipc/model';

/** Settings state. */
export type SettingsState = {
  readonly saving: boolean;
  readonly error: IpcError | null;
  /** Saves a change; resolves with the settings main confirmed, or undefined on error. */
  save(patch: Partial<Settings>): Promise<Settings | undefined>;
};

/** Creates the settings store. */
export function createSettingsStore(api: CustodianApi): StoreApi<SettingsState> {
  return createStore<SettingsState>()((set) => ({
    saving: false,
    error: null,
    async save(patch) {
      set({ saving: true, error: null });
      const r = await api.updateSettings(patch);
      if (r.ok) {
        set({ saving: false });
        return r.value;
      }
      set({ saving: false, error: r.error });
      return undefined;
    },
  }));
}
