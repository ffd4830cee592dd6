/**
 * The port between the desktop shell and the custodian engine: everything the UI can ask that
 * involves a server, a card or the audit log. Main adds no card or protocol logic; the engine
 * adapter (core/desktop-backend/engine-backend.ts) implements this type, and the UI tests' loopback bridge
 * drives the same adapter. PINs arrive here as bytes (converted and wiped by main's IPC
 * handlers), never as strings.
 * @module
 */
import type { IpcResult } from './contract';
import type {
  AuditEntryView,
  AuditVerifyView,
  CardView,
  CeremonyDetail,
  CeremonyResult,
  CeremonySummary,
  ReaderView,
  ServerPreview,
  ServerView,
  TraceEntry,
} from './model';
import type { ReportResult, SecurityAlert } from './trust-model';

/** An asynchronous backend answer. */
export type Reply<T> = Promise<IpcResult<T>>;

/** Something the engine reports without being asked. */
export type BackendEvent =
  | { readonly type: 'ceremonies'; readonly ceremonies: readonly CeremonySummary[] }
  | { readonly type: 'readers'; readonly readers: readonly ReaderView[] }
  | { readonly type: 'servers'; readonly servers: readonly ServerView[] }
  | { readonly type: 'trace'; readonly entry: TraceEntry }
  | { readonly type: 'alerts'; readonly alerts: readonly SecurityAlert[] };

/** The engine as the desktop shell sees it. */
export type CustodianBackend = {
  listServers(): Reply<ServerView[]>;
  previewServer(request: { url: string; invite: string }): Reply<ServerPreview>;
  addServer(request: { url: string; invite: string }): Reply<ServerView>;
  removeServer(request: { serverId: string }): Reply<null>;
  listReaders(): Reply<ReaderView[]>;
  inspectCard(request: { reader: string }): Reply<CardView>;
  /** `pin` absent: PIN-pad reader. The bytes are wiped by the caller after the promise settles. */
  createKey(request: { reader: string; label: string; pin?: Uint8Array }): Reply<CardView>;
  /** The `.pka` file (docs/card-reference.md §6.2 export) and a suggested file name. */
  exportPka(request: { reader: string }): Reply<{ fileName: string; bytes: Uint8Array }>;
  listCeremonies(): Reply<CeremonySummary[]>;
  getCeremony(request: { ceremonyId: string }): Reply<CeremonyDetail>;
  approveCeremony(request: {
    ceremonyId: string;
    /** The offer shown (CeremonyDetail.offerId and .offerDigest); see contract.ts. */
    offerId: string;
    offerDigest: string;
    reader: string;
    pin?: Uint8Array;
    confirmLastTry?: boolean;
    /**
     * CHR of the TEST root the custodian acknowledged; must name the target's anchor when that
     * is not built in, and must be absent otherwise.
     */
    acknowledgeTestAnchor?: string;
  }): Reply<CeremonyResult>;
  declineCeremony(request: { ceremonyId: string; reason?: string }): Reply<CeremonyResult>;
  /** Cancels the ceremony's pending PIN-pad entry; true when one was pending. */
  cancelPinPad(request: { ceremonyId: string }): Reply<boolean>;
  listTrace(request: { limit?: number }): Reply<TraceEntry[]>;
  listAudit(request: { limit?: number }): Reply<AuditEntryView[]>;
  verifyAudit(): Reply<AuditVerifyView>;
  /** Security alerts, newest first. */
  listAlerts(): Reply<SecurityAlert[]>;
  /** "Decline & report" (see the contract). */
  reportAlert(request: { alertId: string }): Reply<ReportResult>;
  /** Subscribes to engine events; returns the unsubscribe function. */
  subscribe(listener: (event: BackendEvent) => void): () => void;
};
