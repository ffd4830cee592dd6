#!/usr/bin/env node
// Launcher for the `custodian` CLI: registers tsx so the TypeScript sources run directly, then
// acts as the composition root that adds the card emulator for `--emulator STATE.json`
// (cli/ itself may not import emulator/; see cli/README.md).
import { register } from 'tsx/esm/api';

register();

const { main } = await import('../cli/main.ts');
const { UsageError } = await import('../cli/errors.ts');

/** Opens an emulator state file as an in-process card; changes are saved back to the file. */
async function openEmulator(file) {
  const { openEmulatorStateFile } = await import('../emulator/state-file-card.ts');
  const { messageOf } = await import('../shared/error-message.ts');
  try {
    return openEmulatorStateFile(file);
  } catch (e) {
    throw new UsageError(`emulator state ${file}: ${messageOf(e)}`);
  }
}

process.exitCode = await main(process.argv.slice(2), { openEmulator });
