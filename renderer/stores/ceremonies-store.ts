/**
 * Ceremonies: the list (kept current by main's push events), the open detail, the approval
 * dialog state and the last result. The PIN itself is never stored here: the dialog passes it
 * straight into {@link CeremoniesState.approve}, which hands it to main and forgets it.
 * The acknowledgement of a TEST target (chain ending in a root configured on this computer, not
 * built in) belongs to the open ceremony only: opening any ceremony clears it, so it is never
 * remembered across ceremonies or visits.
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { effectiveStatus } from '../../shared/ipc/ceremony-rules';
import type { CustodianApi } from '../../shared/ipc/contract';
import { ipcError, type IpcError } from '../../shared/ipc/errors';
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
  /**
   * CHR of the TEST root the custodian acknowledged for the open ceremony (`null`: not ticked).
   * Counts only while it names the anchor the open detail chains to ({@link testAckFor}).
   */
  readonly testAck: string | null;
  refresh(): Promise<void>;
  setList(list: readonly CeremonySummary[]): void;
  open(ceremonyId: string): Promise<void>;
  openDialog(kind: CeremonyDialog['kind']): void;
  /** Ticks or unticks "I know this target chains to the TEST root …" for the open ceremony. */
  acknowledgeTest(checked: boolean): void;
  closeDialog(): void;
  /** The PIN-pad dialog's Cancel while the reader waits for the keypad (main aborts it). */
  cancelPinPad(): Promise<void>;
  /**
   * Approves with the PIN (omit it for a PIN-pad reader); `confirmLastTry` when the custodian
   * confirmed using the last try. Resolves true on success.
   */
  approve(reader: string, pin?: string, confirmLastTry?: boolean): Promise<boolean>;
  decline(reason?: string): Promise<boolean>;
  /**
   * Closes the open dialog with an explanation when its ceremony is no longer waiting, by the
   * server's word or by this computer's clock (`expiresAt`); called on every list update and
   * every second while a dialog is open. Returns true when it closed the dialog.
   */
  checkOpen(): boolean;
};

/** Why a ceremony can no longer be answered, in the error the detail view shows. */
export function closedError(status: CeremonySummary['status']): IpcError {
  return status === 'expired'
    ? ipcError('ceremony-expired', 'expired while it was open here (checked on this computer)')
    : ipcError('ceremony-closed', `the ceremony is ${status} now; nothing was signed`);
}

/** A target chains to a TEST root: a configured root, not the production root built in. */
export function isTestTarget(c: Pick<CeremonySummary, 'targetChain'>): boolean {
  return c.targetChain?.status === 'test';
}

/**
 * The acknowledgement to send for `detail`: the acknowledged CHR when the target is a TEST
 * target and the custodian ticked exactly its root; otherwise undefined.
 */
export function testAckFor(
  detail: CeremonyDetail | null,
  testAck: string | null,
): string | undefined {
  if (detail === null || detail.targetChain.status !== 'test') return undefined;
  const anchor = detail.targetChain.anchor;
  return anchor !== undefined && testAck === anchor ? anchor : undefined;
}

/**
 * Whether the open ceremony's chain allows approving at all: genuine, or TEST and acknowledged.
 * A chain that failed or ends in an unknown root is never approvable.
 */
export function chainAllowsApproval(detail: CeremonyDetail, testAck: string | null): boolean {
  if (detail.targetChain.status === 'genuine') return true;
  return testAckFor(detail, testAck) !== undefined;
}

/**
 * Whether `fresh` (a pushed summary) states another offer than the open `detail`: anything the
 * custodian reviews before approving differs. Counts and status are progress, not a new offer.
 */
export function offerReplaced(detail: CeremonyDetail, fresh: CeremonySummary): boolean {
  return (
    detail.targetDeviceId !== fresh.targetDeviceId ||
    detail.targetLabel !== fresh.targetLabel ||
    detail.purpose !== fresh.purpose ||
    detail.requester !== fresh.requester ||
    detail.required !== fresh.required ||
    (fresh.targetChain !== undefined &&
      JSON.stringify(fresh.targetChain) !== JSON.stringify(detail.targetChain))
  );
}

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
export function createCeremoniesStore(
  api: CustodianApi,
  now: () => number = Date.now,
): StoreApi<CeremoniesState> {
  return createStore<CeremoniesState>()((set, get) => {
    /** Loads the open ceremony's current offer, keeping the explanation shown. */
    const reload = async (ceremonyId: string) => {
      const fresh = await api.getCeremony({ ceremonyId });
      if (fresh.ok && get().detail?.id === ceremonyId) set({ detail: fresh.value });
    };
    return {
      list: [],
      listError: null,
      loading: false,
      detail: null,
      detailError: null,
      dialog: null,
      dialogError: null,
      busy: false,
      result: null,
      testAck: null,
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
          const replaced = offerReplaced(open, fresh);
          // The list's chain (when given) replaces the detail's: a changed anchor un-ticks the
          // TEST acknowledgement, which names the old root (testAckFor).
          set({
            detail: { ...open, ...fresh, targetChain: fresh.targetChain ?? open.targetChain },
          });
          if (replaced && !get().busy) {
            // The server replaced the offer under the open view (docs/desktop-app.md "States"):
            // close any dialog, say so, and load the new offer whole (its offer id and digest).
            // An approval already in main is refused there as offer-changed instead.
            set({
              dialog: null,
              dialogError: null,
              testAck: null,
              detailError: ipcError('offer-changed', 'the request changed while it was open here'),
            });
            void reload(open.id);
          }
        }
        get().checkOpen();
      },
      checkOpen() {
        const { dialog, detail, busy } = get();
        if (dialog === null || detail === null || busy) return false;
        const status = effectiveStatus(detail, now());
        if (status === 'waiting') return false;
        set({ dialog: null, dialogError: null, detailError: closedError(status), testAck: null });
        return true;
      },
      async open(ceremonyId) {
        // A fresh visit: the TEST acknowledgement is never carried over (per ceremony, per visit).
        set({ detailError: null, dialog: null, dialogError: null, result: null, testAck: null });
        if (get().detail?.id !== ceremonyId) set({ detail: null });
        const r = await api.getCeremony({ ceremonyId });
        if (r.ok) set({ detail: r.value });
        else set({ detail: null, detailError: r.error });
      },
      openDialog(kind) {
        const detail = get().detail;
        if (detail === null || effectiveStatus(detail, now()) !== 'waiting') return;
        if (kind === 'approve' && !chainAllowsApproval(detail, get().testAck)) return;
        set({ dialog: { kind, ceremonyId: detail.id }, dialogError: null });
      },
      acknowledgeTest(checked) {
        const detail = get().detail;
        if (!checked || detail === null || !isTestTarget(detail)) {
          set({ testAck: null });
          return;
        }
        set({ testAck: detail.targetChain.anchor ?? null });
      },
      closeDialog() {
        if (!get().busy) set({ dialog: null, dialogError: null });
      },
      async cancelPinPad() {
        const dialog = get().dialog;
        if (dialog === null || dialog.kind !== 'approve' || !get().busy) return;
        // The pending approve() then ends with "PIN entry cancelled" and closes the dialog.
        await api.cancelPinPad({ ceremonyId: dialog.ceremonyId });
      },
      async approve(reader, pin, confirmLastTry) {
        const dialog = get().dialog;
        if (dialog === null || dialog.kind !== 'approve' || get().busy) return false;
        const detail = get().detail;
        if (detail === null || detail.id !== dialog.ceremonyId) return false;
        if (!chainAllowsApproval(detail, get().testAck)) return false;
        // Never accept a PIN for a ceremony that ended (server's word or this computer's clock).
        if (get().checkOpen()) return false;
        const ack = testAckFor(detail, get().testAck);
        set({ busy: true, dialogError: null });
        const r = await api.approveCeremony({
          ceremonyId: dialog.ceremonyId,
          // The offer this detail shows: main refuses it if the server replaced it meanwhile.
          offerId: detail.offerId,
          offerDigest: detail.offerDigest,
          reader,
          ...(pin === undefined ? {} : { pin }),
          ...(confirmLastTry === true ? { confirmLastTry } : {}),
          ...(ack === undefined ? {} : { acknowledgeTestAnchor: ack }),
        });
        if (r.ok) {
          set({ busy: false, dialog: null, result: r.value, testAck: null });
          return true;
        }
        if (r.error.code === 'offer-changed') {
          // The server replaced the offer this dialog was for: main refused before the card saw
          // the PIN. Close the dialog, say so, and show the new offer (docs/desktop-app.md
          // "States"); approving it takes a new review and a new PIN entry.
          set({
            busy: false,
            dialog: null,
            dialogError: null,
            detailError: r.error,
            testAck: null,
          });
          await reload(dialog.ceremonyId);
          return false;
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
    };
  });
}
