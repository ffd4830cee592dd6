/**
 * The custodian commands of the `custodian` CLI: `key create`, `key export`, `enroll`,
 * `watch` and `audit verify`. Registered into the program by cli/main.ts; all of them accept
 * `--emulator STATE.json` (hidden, tests/demo) besides `--reader NAME`.
 * @module
 */
import { Option, type Command } from 'commander';
import { auditAdoptHead, auditVerify, type AuditVerifyOptions } from './audit-verify';
import type { CustodianCommandDeps } from './deps';
import { enroll, type EnrollOptions } from './enroll';
import { keyCreate, keyExport, type KeyCreateOptions, type KeyExportOptions } from './key-commands';
import { watch, type WatchOptions } from './watch';
import { checkPinOptions } from './card-pin';

export type { CustodianCommandDeps } from './deps';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const fdNumber = (text: string): number => {
  if (!/^\d{1,4}$/.test(text))
    throw new Error(`--pin-fd needs a file descriptor number, got "${text}"`);
  return Number(text);
};

const PIN_FILE_HELP =
  'read the PIN from this FIFO or private file (mode 600), e.g. under npx, which passes no extra fds';

const emulatorOption = (): Option => new Option('--emulator <state.json>').hideHelp();

/** Adds the custodian commands to `program`. */
export function registerCustodianCommands(program: Command, deps: CustodianCommandDeps): void {
  const key = program
    .command('key')
    .description("the custodian's PKA key on the custodian's own card");
  key
    .command('create')
    .description(
      'generate the PKA key on your card (brainpoolP256r1, unique CHR); asks for the PIN',
    )
    .option('--label <label>', 'label of the key', 'PKA custodian key')
    .option('--reader <name>', 'reader holding your custodian card')
    .option('--pin-fd <n>', 'read the PIN from this file descriptor (automation)', fdNumber)
    .option('--pin-file <path>', PIN_FILE_HELP)
    .option('--yes-last-try', 'do not ask before using the last PIN try')
    .addOption(emulatorOption())
    .action((opts: KeyCreateOptions) => {
      checkPinOptions(opts);
      return keyCreate(opts, deps);
    });
  key
    .command('export')
    .description('write the .pka file of your key for the target administrator')
    .requiredOption('--key-id <n>', 'key id on the card')
    .requiredOption('--out <file>', 'output file, e.g. me.pka')
    .option('--force', 'overwrite the output file')
    .option('--reader <name>', 'reader holding your custodian card')
    .addOption(emulatorOption())
    .action((opts: KeyExportOptions) => keyExport(opts, deps));

  program
    .command('enroll')
    .description('exchange an enrollment token for a session credential with the server')
    .requiredOption('--server <url>', 'wss://… (ws:// only to loopback)')
    .requiredOption('--token <token>', 'one-time enrollment token from the administrator')
    .option('--ca <file>', 'PEM of the CA that issued the server certificate')
    .option('--fingerprint <sha256>', 'SHA-256 fingerprint of the server certificate')
    .option('--pka <file>', '.pka file of your key (default: read it from the card)')
    .option('--key-id <n>', 'key id of your PKA key (default: from `key create`)')
    .option(
      '--trust-anchor <file>',
      'trusted root CVC for target chains (repeatable)',
      collect,
      [] as string[],
    )
    .option('--reader <name>', 'reader holding your custodian card')
    .option('--timeout <seconds>', 'how long to wait for the server', '30')
    .addOption(emulatorOption())
    .action((opts: EnrollOptions & { timeout: string }) =>
      enroll({ ...opts, timeoutSeconds: opts.timeout }, deps),
    );

  program
    .command('watch')
    .description('show ceremony offers and approve or decline them')
    .option(
      '--pin-fd <n>',
      'read the PIN from this file descriptor instead of the terminal',
      fdNumber,
    )
    .option('--pin-file <path>', PIN_FILE_HELP)
    .option('--pinpad', "enter the PIN on the reader's PIN pad")
    .option('--yes-last-try', 'do not ask before using the last PIN try')
    .option('--trust-anchor <file>', 'extra trusted root CVC (repeatable)', collect, [] as string[])
    .option('--reader <name>', 'reader holding your custodian card')
    .addOption(new Option('--once').hideHelp())
    .addOption(emulatorOption())
    .action((opts: WatchOptions) => {
      checkPinOptions(opts);
      return watch(opts, deps);
    });

  const audit = program.command('audit').description('the local audit log');
  audit
    .command('verify')
    .description('check the hash chain of the audit log')
    .option('--file <file>', 'audit log (default: the one in the custodian home)')
    .option('--head <hash>', 'expected hash of the last entry (detects entries cut off at the end)')
    .option('--without-head-file', 'check the chain alone (a copy of the log without its head)')
    .action((opts: AuditVerifyOptions) => auditVerify(opts, deps));
  audit
    .command('adopt-head')
    .description('record the head of a log that has no head file, after verifying it')
    .option('--file <file>', 'audit log (default: the one in the custodian home)')
    .action((opts: { file?: string }) => auditAdoptHead(opts, deps));
}
