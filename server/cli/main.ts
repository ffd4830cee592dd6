/**
 * The `custodian-server` command line. `main` never throws and never exits the process: it
 * returns the exit code (0 ok, 1 failure, 2 user error) after printing one clear line. One bin,
 * two homes: `serve`, `init-config`, `backup` and `restore` run server code (server/cli/); the
 * operator's commands are HTTP clients of the admin API (server/admin-cli/), given the server
 * this dispatcher resolved (./connection.ts).
 * @module
 */
import { Command, CommanderError, Option } from 'commander';
import { SIGNING_KEY_CURVES, SIGNING_KEY_TYPES } from '../../core/sc-hsm/signing-keys';
import { ApiError } from '../admin-cli/admin-client';
import {
  auditShow,
  ceremonyCancel,
  ceremonyRequest,
  ceremonyStatus,
  enrollCreate,
  enrollPka,
  targetInit,
  targetKeygen,
  targetLock,
  targetStatus,
} from '../admin-cli/admin-commands';
import { backupCommand, restoreCommand } from './backup-commands';
import { targetReconcile } from '../admin-cli/consistency-commands';
import { EXIT, processIo, UsageError, type CliIo } from '../admin-cli/errors';
import { initConfig, serve, type EmulatorOpener } from './serve';
import { signFiles } from '../admin-cli/sign-files';
import {
  pkcs11ClientCreate,
  pkcs11ClientList,
  pkcs11ClientRevoke,
} from '../admin-cli/pkcs11-commands';
import { connect, resolveServer } from './connection';
import { messageOf } from '../../shared/error-message';

/** What the launcher provides. */
export type ServerCliDeps = {
  readonly openEmulator?: EmulatorOpener;
  /** Resolves when serve should stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<void>;
};

function connection(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'server config (finds URL, data dir, admin token, certificate)')
    .option('--server <url>', 'server URL, e.g. https://127.0.0.1:8443')
    .option('--data-dir <dir>', 'data directory holding the admin token')
    .option('--admin-token <token>', 'admin token (default: read from the data directory)')
    .option('--ca <file>', 'PEM certificate to trust for the server');
}

function signals(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Builds the command tree. */
export function buildProgram(deps: ServerCliDeps, io: CliIo): Command {
  const program = new Command('custodian-server')
    .description('Management server for remote n-of-m PKA ceremonies on SmartCard-HSM targets')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command('serve')
    .description('run the server')
    .requiredOption('--config <file>', 'config file')
    .action((o: { config: string }) =>
      serve(o, io, deps.openEmulator, deps.stopSignal ?? signals()),
    );
  program
    .command('init-config')
    .description('write a default config file')
    .requiredOption('--out <file>', 'where to write it')
    .option('--force', 'overwrite')
    .action((o: { out: string; force?: boolean }) => initConfig(o, io));

  const target = program.command('target').description('manage target HSMs');
  connection(
    target.command('init').description('initialize a target for n-of-m PKA (WIPES the device)'),
  )
    .requiredOption('--target <name>')
    .requiredOption('--m <keys>', 'number of custodian keys')
    .requiredOption('--n <required>', 'keys required to unlock')
    .option('--so-pin <hex16>', 'SO-PIN, 16 hex digits (default: generated and printed once)')
    .option('--replaceable-keys', 'allow replacing registered keys later')
    .action((o) => targetInit(connect(o), io));
  connection(target.command('status').description('PKA status, unlock state and custodians'))
    .requiredOption('--target <name>')
    .option('--json')
    .action((o) => targetStatus(connect(o), io));
  connection(
    target
      .command('keygen')
      .description('generate a signing key on the target (needs the unlock window of a quorum)'),
  )
    .requiredOption('--target <name>')
    .requiredOption('--label <label>', 'label of the new key (unique on the target)')
    .addOption(
      new Option('--type <type>', 'key type: ec:<curve> or rsa:2048|rsa:3072|rsa:4096')
        .choices([...SIGNING_KEY_TYPES])
        .conflicts('curve'),
    )
    .addOption(
      new Option('--curve <curve>', 'curve of a new EC key (default brainpoolP256r1)').choices([
        ...SIGNING_KEY_CURVES,
      ]),
    )
    .option('--json')
    .action((o) => targetKeygen(connect(o), io));
  connection(target.command('lock').description('reset the target now (ends any unlock)'))
    .requiredOption('--target <name>')
    .action((o) => targetLock(connect(o), io));
  connection(
    target
      .command('reconcile')
      .description('re-read the card and clear an inconsistency once card and server agree'),
  )
    .requiredOption('--target <name>')
    .option('--acknowledge', 'accept the card as it is now (audited; shown by target status)')
    .action((o) => targetReconcile(connect(o), io));

  const enroll = program.command('enroll').description('enroll custodians');
  connection(enroll.command('create').description('create a single-use invite for a custodian'))
    .requiredOption('--target <name>')
    .requiredOption('--name <custodian>')
    .option('--expires <seconds>', 'token lifetime (default 7 days)')
    .action((o) => enrollCreate(connect(o), io));
  connection(
    enroll.command('pka').description("check and register a custodian's .pka file at the target"),
  )
    .requiredOption('--target <name>')
    .requiredOption('--name <custodian>')
    .requiredOption('--pka <file>')
    .action((o) => enrollPka(connect(o), io));

  const ceremony = program.command('ceremony').description('PKA ceremonies');
  connection(ceremony.command('request').description('request a ceremony'))
    .requiredOption('--target <name>')
    .requiredOption('--purpose <text>')
    .requiredOption('--requester <who>')
    .option('--expires <seconds>', 'seconds until it expires (max 3600)')
    .option('--json')
    .action((o) => ceremonyRequest(connect(o), io));
  connection(
    ceremony.command('status').description('show (or --watch) a ceremony').argument('<id>'),
  )
    .option('--watch', 'follow progress until the ceremony ends')
    .option('--json')
    .action((id: string, o) => ceremonyStatus({ ...connect(o), id }, io));
  connection(ceremony.command('cancel').description('cancel a ceremony').argument('<id>')).action(
    (id: string, o) => ceremonyCancel({ ...connect(o), id }, io),
  );

  connection(
    program
      .command('sign')
      .description('sign files with a key of an unlocked target')
      .argument('<files...>'),
  )
    .requiredOption('--target <name>')
    .requiredOption('--key <id|label>')
    .addOption(new Option('--out <dir>', 'output directory').default('signatures'))
    .action((files: string[], o) =>
      signFiles(resolveServer(o), { target: o.target, key: o.key, out: o.out, files }, io),
    );

  const p11 = program
    .command('pkcs11-client')
    .description('credentials for the PKCS#11 module (docs/pkcs11.md)');
  connection(p11.command('create').description('issue a credential (printed once)'))
    .requiredOption('--name <client>', 'e.g. the build machine, build01')
    .option('--json')
    .action((o) => pkcs11ClientCreate(connect(o), io));
  connection(p11.command('list').description('list PKCS#11 clients'))
    .option('--json')
    .action((o) => pkcs11ClientList(connect(o), io));
  connection(p11.command('revoke').description("revoke a client's credential"))
    .requiredOption('--name <client>')
    .action((o) => pkcs11ClientRevoke(connect(o), io));

  program
    .command('backup')
    .description('write a verified online backup of the database (safe while serving)')
    .requiredOption('--out <file>', 'new backup file')
    .option('--config <file>', 'server config (finds the data directory)')
    .option('--data-dir <dir>', 'data directory')
    .action((o: { out: string; config?: string; dataDir?: string }) => backupCommand(o, io));
  program
    .command('restore')
    .description('verify a backup and install it as the database (the server must be stopped)')
    .requiredOption('--from <file>', 'backup file')
    .option('--config <file>', 'server config (finds the data directory)')
    .option('--data-dir <dir>', 'data directory')
    .action((o: { from: string; config?: string; dataDir?: string }) => restoreCommand(o, io));

  connection(program.command('audit').description('show and verify the audit chain'))
    .option('--limit <n>')
    .option('--json')
    .action((o) => auditShow(connect(o), io));
  return program;
}

/** Runs the CLI and returns the exit code. */
export async function main(
  argv: readonly string[],
  deps: ServerCliDeps = {},
  io: CliIo = processIo,
): Promise<number> {
  const program = buildProgram(deps, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    if (e instanceof UsageError) {
      io.err(`custodian-server: ${e.message}\n`);
      return EXIT.USAGE;
    }
    if (e instanceof ApiError) {
      io.err(`custodian-server: ${e.message}\n`);
      return e.status >= 400 && e.status < 500 ? EXIT.USAGE : EXIT.FAILURE;
    }
    io.err(`custodian-server: ${messageOf(e)}\n`);
    return EXIT.FAILURE;
  }
}
