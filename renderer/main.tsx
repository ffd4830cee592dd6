/**
 * Production entry: the bridge is the `window.custodian` object the preload exposed.
 * @module
 */
import { BRIDGE_GLOBAL } from '../shared/ipc/channels';
import type { CustodianApi } from '../shared/ipc/contract';
import { mountApp } from './boot';

const bridge = (window as unknown as Record<string, CustodianApi | undefined>)[BRIDGE_GLOBAL];
const root = document.getElementById('root');
if (root !== null) {
  if (bridge === undefined) {
    root.textContent = 'Custodian must be started as the desktop app (the bridge is missing).';
  } else {
    mountApp(root, bridge);
  }
}
