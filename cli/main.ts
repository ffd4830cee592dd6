/**
 * The `custodian` command line: a thin layer over core. `main` never throws and never calls
 * process.exit; it returns the exit code (0 ok, 1 failure, 2 usage/setup problem).
 * @module
 */
import { Command, CommanderError, Option } from 'commander';
import { cardInfoCommand } from './commands/card-info';
import { registerCustodianCommands } from './custodian/index';
import { readersCommand } from './commands/readers';
import { defaultDeps, processIo, type CliDeps, type CliIo } from './context';
import { EXIT, reportError } from './errors';
import { terminalWriter } from './terminal';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Builds the command tree; actions write to `io` and use `deps`. */
export function buildProgram(deps: CliDeps, raw: CliIo): Command {
  // Everything below writes through the one terminal-safe writer (cli/terminal.ts).
  const io = terminalWriter(raw);
  const program = new Command('custodian')
    .description('Remote n-of-m public key authentication for SmartCard-HSM / Nitrokey HSM')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showSuggestionAfterError(true);

  program
    .command('readers')
    .description('list PC/SC readers and whether they hold a card')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => readersCommand(opts, deps, io));

  const card = program.command('card').description('inspect a SmartCard-HSM');
  card
    .command('info')
    .description(
      'device id, applet version, PIN and PKA status, keys, and whether the device is genuine',
    )
    .option('--reader <name>', 'reader to use (default: the only reader holding a card)')
    .option('--trust-anchor <file>', 'extra trusted root CVC (repeatable)', collect, [] as string[])
    .option('--json', 'machine-readable output')
    // For tests and the demo only (cli/README.md): a card emulator state file instead of PC/SC.
    .addOption(new Option('--emulator <state.json>').hideHelp())
    .action((opts: { reader?: string; trustAnchor: string[]; json?: boolean; emulator?: string }) =>
      cardInfoCommand(opts, deps, io),
    );

  // key create/export, enroll, watch, audit verify: the same engine the desktop app uses.
  registerCustodianCommands(program, { ...deps, io });
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(
  argv: readonly string[],
  deps: Partial<CliDeps> = {},
  io: CliIo = processIo,
): Promise<number> {
  const safe = terminalWriter(io);
  const program = buildProgram({ ...defaultDeps(), ...deps }, safe);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed its message (or the help/version text).
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return reportError(e, safe);
  }
}
