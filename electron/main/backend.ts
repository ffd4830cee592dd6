/**
 * The backend port as main sees it (defined in shared/ipc/backend.ts, implemented over the
 * engine by core/desktop-backend/engine-backend.ts) and the stand-in main runs when the engine cannot
 * start, so the UI explains the problem instead of hanging.
 * @module
 */
import { ipcError } from '../../shared/ipc/errors';
import type { CustodianBackend } from '../../shared/ipc/backend';

// The port lives in shared/ipc so core/desktop-backend can implement it; re-exported for main's modules.
export type { CustodianBackend } from '../../shared/ipc/backend';

/**
 * A backend that answers every call with `unavailable`: what main runs when the engine cannot
 * be started, so the UI explains the problem instead of hanging.
 */
export function createUnavailableBackend(reason: string): CustodianBackend {
  const no = async () => ({ ok: false as const, error: ipcError('unavailable', reason) });
  return {
    listServers: no,
    previewServer: no,
    addServer: no,
    removeServer: no,
    listReaders: no,
    inspectCard: no,
    createKey: no,
    exportPka: no,
    listCeremonies: no,
    getCeremony: no,
    approveCeremony: no,
    declineCeremony: no,
    cancelPinPad: no,
    listTrace: no,
    listAudit: no,
    verifyAudit: no,
    listAlerts: no,
    reportAlert: no,
    subscribe: () => () => {},
  };
}
