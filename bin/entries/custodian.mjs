// Composition root of the `custodian` CLI, bundled by build/bundle-cli.mjs into
// dist/cli/custodian.mjs (run by bin/custodian.mjs). It adds the card emulator for
// `--emulator STATE.json` (cli/ itself may not import emulator/; see cli/README.md).
import { main } from '../../cli/main.ts';
import { UsageError } from '../../cli/errors.ts';

/** Opens an emulator state file as an in-process card; changes are saved back to the file. */
async function openEmulator(file) {
  const { openEmulatorStateFile } = await import('../../emulator/state-file-card.ts');
  const { messageOf } = await import('../../shared/error-message.ts');
  try {
    return openEmulatorStateFile(file);
  } catch (e) {
    throw new UsageError(`emulator state ${file}: ${messageOf(e)}`);
  }
}

process.exitCode = await main(process.argv.slice(2), { openEmulator });
