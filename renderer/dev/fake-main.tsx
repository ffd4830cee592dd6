/**
 * Development entry for the browser (npm run ui:serve and the UI tests): installs the fake
 * bridge as `window.custodian`, then mounts the app exactly like production. The scenario
 * comes from `?scenario=`, the latency from `?delay=` (ms).
 * @module
 */
import { BRIDGE_GLOBAL } from '../../shared/ipc/channels';
import { afterFirstPaint } from '../first-paint';
import { createFakeBridge, SCENARIOS, type Scenario } from './fake-bridge';

const params = new URLSearchParams(window.location.search);
const asked = params.get('scenario') ?? 'normal';
const scenario: Scenario = (SCENARIOS as readonly string[]).includes(asked)
  ? (asked as Scenario)
  : 'normal';
const delayMs = Math.min(Math.max(Number(params.get('delay') ?? '120') || 0, 0), 5000);
const fake = createFakeBridge({ scenario, delayMs });
Object.defineProperty(window, BRIDGE_GLOBAL, { value: fake, configurable: false, writable: false });
const root = document.getElementById('root');
if (root !== null)
  afterFirstPaint(() => import('../boot').then(({ mountApp }) => void mountApp(root, fake)));
