/**
 * First run: the custodian pastes the server address and invitation, sees what the invitation
 * says (server name, their custodian name, trust anchors — test anchors flagged), and only
 * then confirms. Nothing is stored before the confirmation.
 * @module
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CustodianApi } from '../../shared/ipc/contract';
import type { IpcError } from '../../shared/ipc/errors';
import type { ServerPreview, ServerView } from '../../shared/ipc/model';

/** First-run state. */
export type ServersState = {
  readonly step: 'enter' | 'review' | 'done';
  readonly busy: boolean;
  readonly preview: ServerPreview | null;
  readonly error: IpcError | null;
  /** The server just added (step `done`: the enrollment sequence is shown). */
  readonly added: ServerView | null;
  /** Step 1: ask main what the invitation says. */
  review(url: string, invite: string): Promise<void>;
  /** Step 2: confirm; resolves with the added server. */
  confirm(url: string, invite: string): Promise<ServerView | undefined>;
  back(): void;
};

/** Creates the first-run store. */
export function createServersStore(api: CustodianApi): StoreApi<ServersState> {
  return createStore<ServersState>()((set) => ({
    step: 'enter',
    busy: false,
    preview: null,
    error: null,
    added: null,
    async review(url, invite) {
      set({ busy: true, error: null });
      const r = await api.previewServer({ url: url.trim(), invite: invite.trim() });
      if (r.ok) set({ busy: false, step: 'review', preview: r.value });
      else set({ busy: false, error: r.error });
    },
    async confirm(url, invite) {
      set({ busy: true, error: null });
      const r = await api.addServer({ url: url.trim(), invite: invite.trim() });
      if (!r.ok) {
        set({ busy: false, error: r.error });
        return undefined;
      }
      set({ busy: false, step: 'done', added: r.value });
      return r.value;
    },
    back() {
      set({ step: 'enter', preview: null, error: null, added: null });
    },
  }));
}
