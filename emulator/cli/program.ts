/**
 * `sc-hsm-emulator` command line: `create`, `serve`, `info`. User errors print one clear line
 * and exit 2; they never show a stack trace.
 * @module
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CaFileError, createTestCa } from '../ca/ca-store';
import { createDeviceState, loadState, saveState, StateFileError } from '../card/state-file';
import { LockedError } from './lock';
import { serve, type ServeIo } from './serve';
import { formatSummary, summarize } from './summary';
import { messageOf } from '../../shared/error-message';

/** Where the CLI writes and how it waits for signals (injectable for tests). */
export type CliIo = ServeIo & {
  stdout(text: string): void;
  stderr(text: string): void;
};

/** A bad flag or input: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `host:port` (IPv4 / name) for vpcd. */
export function parseVpcdAddress(text: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`--vpcd must be host:port (e.g. 127.0.0.1:35963), got "${text}"`);
  }
  return { host: m[1]!, port };
}

function parseSerial(text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new UsageError(`--serial must be 0–99999, got "${text}"`);
  return Number(text);
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('sc-hsm-emulator')
    .description('SmartCard-HSM emulator for tests and demos (test PKI only, not a real HSM)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);
  let code = 0;

  program
    .command('create')
    .description('create a factory-fresh, uninitialized device (and the test CA if missing)')
    .requiredOption('--state <file>', 'device state file to write')
    .requiredOption('--ca <dir>', 'test CA directory (created when missing; holds root.cvc)')
    .option('--serial <n>', 'serial number 0–99999 (random when omitted)')
    .option('--force', 'overwrite an existing state file')
    .action((o: { state: string; ca: string; serial?: string; force?: boolean }) => {
      if (existsSync(o.state) && !o.force) {
        throw new UsageError(`${o.state} exists; use --force to overwrite it`);
      }
      const serial = o.serial === undefined ? undefined : parseSerial(o.serial);
      const ca = createTestCa(o.ca);
      const state = createDeviceState(ca, serial === undefined ? {} : { serial });
      saveState(o.state, state);
      io.stdout(
        `created ${o.state}: device ${summarize(state).deviceChr}, trust ${o.ca}/root.cvc\n`,
      );
    });

  program
    .command('info')
    .description('show a device state file')
    .requiredOption('--state <file>', 'device state file')
    .option('--json', 'machine-readable output')
    .action((o: { state: string; json?: boolean }) => {
      const summary = summarize(loadState(o.state));
      io.stdout(o.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    });

  program
    .command('serve')
    .description('insert the device into a vpcd reader until SIGINT/SIGTERM')
    .requiredOption('--state <file>', 'device state file (updated after every change)')
    .addOption(new Option('--vpcd <host:port>', 'vpcd address').default('127.0.0.1:35963'))
    .addOption(new Option('--connect-timeout <ms>', 'how long to wait for vpcd').default('10000'))
    .action(async (o: { state: string; vpcd: string; connectTimeout: string }) => {
      const address = parseVpcdAddress(o.vpcd);
      if (!/^\d{1,7}$/.test(o.connectTimeout)) {
        throw new UsageError(`--connect-timeout must be milliseconds, got "${o.connectTimeout}"`);
      }
      code = await serve(o.state, { ...address, connectTimeoutMs: Number(o.connectTimeout) }, io);
    });

  try {
    if (argv.length === 0) {
      io.stderr(program.helpInformation());
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; parse errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (
      e instanceof UsageError ||
      e instanceof StateFileError ||
      e instanceof CaFileError ||
      e instanceof LockedError
    ) {
      io.stderr(`sc-hsm-emulator: ${e.message}\n`);
      return 2;
    }
    io.stderr(`sc-hsm-emulator: ${messageOf(e)}\n`);
    return 1;
  }
}
