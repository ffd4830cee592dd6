/**
 * Maps every IPC method of the contract to the backend or a local service. The PIN is the one
 * secret that crosses IPC: here it becomes bytes for the engine and those bytes are zeroed
 * when the call settles, whatever the outcome. It is never logged.
 * @module
 */
import { wipe } from '../../shared/codec/bytes';
import type { IpcResult } from '../../shared/ipc/contract';
import { ipcError } from '../../shared/ipc/errors';
import type { Settings } from '../../shared/ipc/model';
import type { CustodianBackend } from './backend';
import { openExternalSafely } from './external-links';
import type { InvokeHandlers } from './ipc/ipc-main';
import type { SettingsStore } from './settings-store';

/** Converts the PIN to ASCII bytes (the contract already limited it to printable ASCII). */
export function pinBytes(pin: string): Uint8Array {
  const bytes = new Uint8Array(pin.length);
  for (let i = 0; i < pin.length; i++) {
    const c = pin.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      wipe(bytes);
      throw new RangeError('PIN must be printable ASCII');
    }
    bytes[i] = c;
  }
  return bytes;
}

/**
 * Runs `fn` with the PIN as bytes (or without, for PIN-pad readers) and wipes the bytes after.
 */
export async function withPin<T>(
  pin: string | undefined,
  fn: (pin: Uint8Array | undefined) => Promise<T>,
): Promise<T> {
  if (pin === undefined) return fn(undefined);
  const bytes = pinBytes(pin);
  try {
    return await fn(bytes);
  } finally {
    wipe(bytes);
  }
}

/** What the handlers need besides the backend. */
export type HandlerDeps = {
  readonly backend: CustodianBackend;
  readonly settings: SettingsStore;
  readonly version: string;
  /** Whether main could create a system tray (absent: not known yet). */
  readonly trayAvailable?: () => boolean | undefined;
  readonly openExternal: (url: string) => Promise<void>;
  /** Shows a save dialog and writes the file; resolves with the chosen name or undefined. */
  readonly saveFile: (suggestedName: string, bytes: Uint8Array) => Promise<string | undefined>;
};

const okValue = <T>(value: T): IpcResult<T> => ({ ok: true, value });

/** Builds the handler map for {@link registerInvokeHandlers}. */
export function createIpcHandlers(deps: HandlerDeps): InvokeHandlers {
  const { backend, settings } = deps;
  return {
    async getOverview() {
      const servers = await backend.listServers();
      if (!servers.ok) return servers;
      const tray = deps.trayAvailable?.();
      return okValue({
        servers: servers.value,
        settings: settings.current(),
        version: deps.version,
        ...(tray === undefined ? {} : { trayAvailable: tray }),
      });
    },
    previewServer: (r) => backend.previewServer(r),
    addServer: (r) => backend.addServer(r),
    removeServer: (r) => backend.removeServer(r),
    listReaders: () => backend.listReaders(),
    inspectCard: (r) => backend.inspectCard(r),
    createKey: ({ reader, label, pin }) =>
      withPin(pin, (bytes) =>
        backend.createKey(bytes === undefined ? { reader, label } : { reader, label, pin: bytes }),
      ),
    async exportPka(r) {
      const file = await backend.exportPka(r);
      if (!file.ok) return file;
      const name = await deps.saveFile(file.value.fileName, file.value.bytes);
      return okValue({ saved: name !== undefined, fileName: name ?? file.value.fileName });
    },
    listCeremonies: () => backend.listCeremonies(),
    getCeremony: (r) => backend.getCeremony(r),
    approveCeremony: ({
      ceremonyId,
      offerId,
      offerDigest,
      reader,
      pin,
      confirmLastTry,
      acknowledgeTestAnchor,
    }) =>
      withPin(pin, (bytes) =>
        backend.approveCeremony({
          ceremonyId,
          // The exact offer the view showed; a replaced offer is refused (approvals.ts).
          offerId,
          offerDigest,
          reader,
          ...(bytes === undefined ? {} : { pin: bytes }),
          ...(confirmLastTry === true ? { confirmLastTry } : {}),
          // The backend refuses a TEST-anchored target unless this names its root (approvals.ts).
          ...(acknowledgeTestAnchor === undefined ? {} : { acknowledgeTestAnchor }),
        }),
      ),
    cancelPinPad: (r) => backend.cancelPinPad(r),
    declineCeremony: ({ ceremonyId, reason }) =>
      backend.declineCeremony(reason === undefined ? { ceremonyId } : { ceremonyId, reason }),
    listTrace: ({ limit }) => backend.listTrace(limit === undefined ? {} : { limit }),
    listAudit: ({ limit }) => backend.listAudit(limit === undefined ? {} : { limit }),
    verifyAudit: () => backend.verifyAudit(),
    getSettings: async () => okValue(settings.current()),
    async updateSettings(patch) {
      const clean = Object.fromEntries(
        Object.entries(patch).filter(([, v]) => v !== undefined),
      ) as Partial<Settings>;
      try {
        return okValue(await settings.update(clean));
      } catch {
        return { ok: false, error: ipcError('internal', 'settings could not be saved') };
      }
    },
    listAlerts: () => backend.listAlerts(),
    reportAlert: (r) => backend.reportAlert(r),
    openExternal: async ({ url }) => okValue(await openExternalSafely(url, deps.openExternal)),
  };
}
