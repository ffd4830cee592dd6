/**
 * Entry point of `sc-hsm-emulator` (bundled from bin/entries/sc-hsm-emulator.mjs into
 * dist/cli/, run by bin/sc-hsm-emulator.mjs).
 * @module
 */
import { runCli } from './program';

// Installed before any command runs, so a signal during `serve`'s connection attempts is seen.
const stopped = new Promise<string>((resolve) => {
  const on = (signal: NodeJS.Signals): void => resolve(signal);
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
});

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stopSignal: () => stopped,
});
// Exit now: a stopped `serve` may still have a vpcd connection attempt pending (stdout and
// stderr are synchronous for files and pipes on Linux, so nothing written is lost).
process.exit(code);
