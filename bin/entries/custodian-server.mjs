// Composition root of `custodian-server`, bundled by build/bundle-cli.mjs into
// dist/cli/custodian-server.mjs (run by bin/custodian-server.mjs). It adds the card emulator for
// targets configured with `emulatorState` (server/ itself may not import emulator/).
import { main } from '../../server/cli/main.ts';

/** Opens an emulator state file as an in-process card; changes are saved back to the file. */
async function openEmulator(file) {
  const { openEmulatorStateFile } = await import('../../emulator/state-file-card.ts');
  return openEmulatorStateFile(file);
}

process.exitCode = await main(process.argv.slice(2), { openEmulator });
// main has finished (for `serve`: after its bounded shutdown). Whatever native handle might still
// hold the event loop (a PC/SC watcher, a stuck socket), the process ends shortly after.
setTimeout(() => process.exit(), 2000).unref();
