/**
 * The PC/SC environment `--pcsc` needs: pcscd running with two vpcd reader slots (vsmartcard,
 * docs/card-reference.md §10). Uses the same vpcd slot discovery and slot locks as the test harness
 * (emulator/vpcd-slots.ts) but never starts or reconfigures system daemons: the demo only says
 * exactly what to install or start.
 * @module
 */
import { findSystemBinary } from '../emulator/pcsc-wait';
import { lockSlot as lockVpcdSlot, vpcdConfigs } from '../emulator/vpcd-slots';
import { messageOf } from '../shared/error-message';

export { vpcdSlots } from '../emulator/vpcd-slots';

export type { VpcdSlot } from '../emulator/vpcd-slots';

/** Why `--pcsc` cannot run, worded as what to do. */
export class PcscSetupError extends Error {
  override readonly name = 'PcscSetupError';
}

/** Checks what can be checked before talking to pcscd. */
export function checkInstalled(): void {
  if (!findSystemBinary('pcscd')) {
    throw new PcscSetupError(
      'pcscd is not installed: apt-get install pcscd libpcsclite1 (then start it: pcscd, or systemctl start pcscd)',
    );
  }
  if (vpcdConfigs().length === 0) {
    throw new PcscSetupError(
      'no vpcd reader is configured: apt-get install vsmartcard-vpcd, then restart pcscd',
    );
  }
}

/** Advice when opening the PC/SC context failed. */
export function notRunningAdvice(message: string): string {
  return `cannot reach pcscd (${message}): start it with \`pcscd\` (as root) or \`systemctl start pcscd\`; the native module needs libpcsclite-dev at npm install time`;
}

/**
 * Takes the same cross-process lock the integration tests use for a vpcd port, so a demo and
 * a test run never put two cards into one reader. Returns the release function.
 */
export async function lockSlot(port: number, timeoutMs = 30_000): Promise<() => void> {
  try {
    return await lockVpcdSlot(port, timeoutMs);
  } catch (e) {
    throw new PcscSetupError(
      `vpcd port ${port} is in use (${messageOf(e)}; a test run?); try again when it ends`,
    );
  }
}
