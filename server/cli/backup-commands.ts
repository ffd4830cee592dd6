/**
 * `custodian-server backup --out FILE` and `restore --from FILE` (server/README.md "Backups").
 * Both find the database through `--data-dir` or the data directory of `--config`.
 * @module
 */
import { join, resolve } from 'node:path';
import { loadConfig } from '../config';
import { backupDatabase, restoreDatabase, type BackupSummary } from '../store/backup';
import { runningServerPid, pidFile } from '../store/pid-file';
import { UsageError, type CliIo } from '../admin-cli/errors';

/** Where the database is. */
export type DataDirOptions = { readonly config?: string; readonly dataDir?: string };

function dataDirOf(o: DataDirOptions): string {
  if (o.dataDir !== undefined) return resolve(o.dataDir);
  if (o.config === undefined) throw new UsageError('name the server with --config or --data-dir');
  const c = loadConfig(o.config);
  if (!c.ok) throw new UsageError(c.error.message);
  return c.value.dataDir;
}

const describe = (s: BackupSummary): string =>
  `schema ${s.schemaVersion}, ${s.custodians} custodian(s), ${s.ceremonies} ceremony(ies), ` +
  `${s.auditEntries} audit entries (chain verified, head ${s.auditHead.slice(0, 16)}…)`;

/** `backup --out FILE`: an online, verified backup; safe while the server runs. */
export async function backupCommand(o: DataDirOptions & { out: string }, io: CliIo) {
  const r = await backupDatabase(join(dataDirOf(o), 'custodian.db'), resolve(o.out));
  if (!r.ok) throw new UsageError(r.error);
  io.out(`backup written to ${o.out}: ${describe(r.value)}\n`);
}

/** `restore --from FILE`: verifies the backup, then replaces the database of a stopped server. */
export async function restoreCommand(o: DataDirOptions & { from: string }, io: CliIo) {
  const dir = dataDirOf(o);
  const pid = runningServerPid(dir);
  if (pid !== undefined) {
    throw new UsageError(
      `a server (pid ${pid}) is using ${dir}; stop it before restoring (if none is running, remove ${pidFile(dir)})`,
    );
  }
  const r = await restoreDatabase(resolve(o.from), join(dir, 'custodian.db'));
  if (!r.ok) throw new UsageError(r.error);
  io.out(`restored ${join(dir, 'custodian.db')} from ${o.from}: ${describe(r.value.summary)}\n`);
  if (r.value.keptAs) io.out(`the replaced database was kept as ${r.value.keptAs}\n`);
}
