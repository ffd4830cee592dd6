/**
 * The IPC channel names, keyed by the method name the preload exposes on `window.custodian`.
 * Kept free of zod so the sandboxed preload bundle stays tiny; {@link ./contract} attaches the
 * validators to the same keys (a type-level check there keeps both maps in step).
 * @module
 */

/** Renderer → main request/response calls (`ipcRenderer.invoke` / `ipcMain.handle`). */
export const INVOKE_CHANNELS = {
  getOverview: 'custodian:app:overview',
  previewServer: 'custodian:servers:preview',
  addServer: 'custodian:servers:add',
  removeServer: 'custodian:servers:remove',
  listReaders: 'custodian:card:readers',
  inspectCard: 'custodian:card:inspect',
  createKey: 'custodian:card:create-key',
  exportPka: 'custodian:card:export-pka',
  listCeremonies: 'custodian:ceremonies:list',
  getCeremony: 'custodian:ceremonies:get',
  approveCeremony: 'custodian:ceremonies:approve',
  declineCeremony: 'custodian:ceremonies:decline',
  cancelPinPad: 'custodian:ceremonies:cancel-pin-pad',
  listTrace: 'custodian:trace:list',
  listAudit: 'custodian:audit:list',
  verifyAudit: 'custodian:audit:verify',
  getSettings: 'custodian:settings:get',
  updateSettings: 'custodian:settings:update',
  openExternal: 'custodian:shell:open-external',
  listAlerts: 'custodian:security:alerts',
  reportAlert: 'custodian:security:report',
} as const;

/** Main → renderer pushes (`webContents.send` / `ipcRenderer.on`). */
export const EVENT_CHANNELS = {
  onCeremonies: 'custodian:event:ceremonies',
  onReaders: 'custodian:event:readers',
  onServers: 'custodian:event:servers',
  onTrace: 'custodian:event:trace',
  onNavigate: 'custodian:event:navigate',
  onAlerts: 'custodian:event:alerts',
} as const;

/** Name of an invoke method. */
export type InvokeMethod = keyof typeof INVOKE_CHANNELS;
/** Name of an event subscription. */
export type EventMethod = keyof typeof EVENT_CHANNELS;

/** The global the preload defines in the renderer's main world. */
export const BRIDGE_GLOBAL = 'custodian';

/** All invoke method names, in contract order. */
export const INVOKE_METHODS = Object.keys(INVOKE_CHANNELS) as InvokeMethod[];
/** All event method names, in contract order. */
export const EVENT_METHODS = Object.keys(EVENT_CHANNELS) as EventMethod[];
