/**
 * Production entry: the bridge is the `window.custodian` object the preload exposed.
 * @module
 */
import { BRIDGE_GLOBAL } from '../shared/ipc/channels';
import type { CustodianApi } from '../shared/ipc/contract';
import { afterFirstPaint } from './first-paint';

const bridge = (window as unknown as Record<string, CustodianApi | undefined>)[BRIDGE_GLOBAL];
const root = document.getElementById('root');
if (root !== null) {
  if (bridge === undefined) {
    root.textContent = 'Custodian must be started as the desktop app (the bridge is missing).';
  } else {
    afterFirstPaint(() => import('./boot').then(({ mountApp }) => void mountApp(root, bridge)));
  }
}
