/**
 * Ceremonies: the list (kept current by main's push events), the open detail, the approval
 * dialog state and the last result. The PIN itself is never stored here: the dialog passes it
 * straight into {@link CeremoniesState.approve}, which hands it to main and forgets it.
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import type { IpcError } from '../../shared/ipc/errors';
import type { CeremonyDetail, CeremonyResult, CeremonySummary } from '../../shared/ipc/model';

/** Which dialog is open over the detail view. */
export type CeremonyDialog = { readonly kind: 'approve' | 'decline'; readonly ceremonyId: string };

/** Ceremonies state. */
export type CeremoniesState = {
  readonly list: readonly CeremonySummary[];
  readonly listError: IpcError | null;
  readonly loading: boolean;
  readonly detail: CeremonyDetail | null;
  readonly detailError: IpcError | null;
  readonly dialog: CeremonyDialog | null;
  /** Error shown inside the open dialog (e.g. wrong PIN). */
  readonly dialogError: IpcError | null;
  readonly busy: boolean;
  readonly result: CeremonyResult | null;
  refresh(): Promise<void>;
  setList(list: readonly CeremonySummary[]): void;
  open(ceremonyId: string): Promise<void>;
  openDialog(kind: CeremonyDialog['kind']): void;
  closeDialog(): void;
  /**
   * Approves with the PIN (omit it for a PIN-pad reader); `confirmLastTry` when the custodian
   * confirmed using the last try. Resolves true on success.
   */
  approve(reader: string, pin?: string, confirmLastTry?: boolean): Promise<boolean>;
  decline(reason?: string): Promise<boolean>;
};

/** Waiting ceremonies first (soonest expiry first), then the rest newest first. */
export function sortCeremonies(list: readonly CeremonySummary[]): CeremonySummary[] {
  return [...list].sort((a, b) => {
    const wa = a.status === 'waiting' ? 0 : 1;
    const wb = b.status === 'waiting' ? 0 : 1;
    if (wa !== wb) return wa - wb;
    if (wa === 0) return Date.parse(a.expiresAt) - Date.parse(b.expiresAt);
    return Date.parse(b.createdAt) - Date.parse(a.createdAt);
  });
}

/** Creates the ceremonies store. */
export function createCeremoniesStore(api: CustodianApi): StoreApi<CeremoniesState> {
  return createStore<CeremoniesState>()((set, get) => ({
    list: [],
    listError: null,
    loading: false,
    detail: null,
    detailError: null,
    dialog: null,
    dialogError: null,
    busy: false,
    result: null,
    async refresh() {
      set({ loading: true });
      const r = await api.listCeremonies();
      if (r.ok) set({ loading: false, list: sortCeremonies(r.value), listError: null });
      else set({ loading: false, listError: r.error });
    },
    setList(list) {
      set({ list: sortCeremonies(list), listError: null });
      const open = get().detail;
      const fresh = open === null ? undefined : list.find((c) => c.id === open.id);
      if (open !== null && fresh !== undefined) {
        set({ detail: { ...open, ...fresh } });
      }
    },
    async open(ceremonyId) {
      set({ detailError: null, dialog: null, dialogError: null, result: null });
      if (get().detail?.id !== ceremonyId) set({ detail: null });
      const r = await api.getCeremony({ ceremonyId });
      if (r.ok) set({ detail: r.value });
      else set({ detail: null, detailError: r.error });
    },
    openDialog(kind) {
      const detail = get().detail;
      if (detail === null || detail.status !== 'waiting') return;
      set({ dialog: { kind, ceremonyId: detail.id }, dialogError: null });
    },
    closeDialog() {
      if (!get().busy) set({ dialog: null, dialogError: null });
    },
    async approve(reader, pin, confirmLastTry) {
      const dialog = get().dialog;
      if (dialog === null || dialog.kind !== 'approve' || get().busy) return false;
      set({ busy: true, dialogError: null });
      const r = await api.approveCeremony({
        ceremonyId: dialog.ceremonyId,
        reader,
        ...(pin === undefined ? {} : { pin }),
        ...(confirmLastTry === true ? { confirmLastTry } : {}),
      });
      if (r.ok) {
        set({ busy: false, dialog: null, result: r.value });
        return true;
      }
      const stayOpen =
        r.error.code === 'pin-wrong' ||
        r.error.code === 'pin-format' ||
        r.error.code === 'pin-last-try';
      set({
        busy: false,
        dialogError: stayOpen ? r.error : null,
        dialog: stayOpen ? dialog : null,
        detailError: stayOpen ? null : r.error,
      });
      return false;
    },
    async decline(reason) {
      const dialog = get().dialog;
      if (dialog === null || dialog.kind !== 'decline' || get().busy) return false;
      set({ busy: true, dialogError: null });
      const trimmed = reason?.trim();
      const r = await api.declineCeremony(
        trimmed === undefined || trimmed === ''
          ? { ceremonyId: dialog.ceremonyId }
          : { ceremonyId: dialog.ceremonyId, reason: trimmed },
      );
      if (r.ok) {
        set({ busy: false, dialog: null, result: r.value });
        return true;
      }
      set({ busy: false, dialogError: r.error });
      return false;
    },
  }));
}
