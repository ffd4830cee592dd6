/**
 * An emulator state file as a card: the one way the launchers (`custodian --emulator FILE`,
 * `custodian-server` targets with `emulatorState`) and tests open an emulated SmartCard-HSM
 * from disk. Every change the card makes is saved back to the file (atomically).
 * @module
 */
import type { CardTransport } from '../core/card/transport';
import { EmulatedSmartCardHsm } from './card/sc-hsm-card';
import { loadState, saveState } from './card/state-file';
import { createInProcessTransport } from './transport/in-process';

/**
 * Opens `file` as an in-process card, powered on. Throws a StateFileError (with the file named)
 * when the file is missing, unreadable or not a valid state.
 */
export function openEmulatorStateFile(file: string): CardTransport {
  const card = new EmulatedSmartCardHsm(loadState(file), { onChange: (s) => saveState(file, s) });
  return createInProcessTransport(card);
}
