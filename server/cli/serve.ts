/**
 * `custodian-server serve` and `init-config`.
 * @module
 */
import { existsSync, writeFileSync } from 'node:fs';
import { startServer, type AppDeps } from '../app';
import { defaultConfig, loadConfig, type TargetConfig } from '../config';
import type { TransportOpener } from '../targets/target-service';
import { closeDefaultPcsc, defaultOpener } from '../targets/open-target';
import { UsageError, type CliIo } from '../admin-cli/errors';
import type { CardTransport } from '../../core/card/transport';
import { messageOf } from '../../shared/error-message';

/** Opens an emulator state file as a card (supplied by the launcher, which may use emulator/). */
export type EmulatorOpener = (stateFile: string) => Promise<CardTransport>;

/** `init-config --out F`: writes a default config (refuses to overwrite without --force). */
export function initConfig(o: { out: string; force?: boolean }, io: CliIo): void {
  if (existsSync(o.out) && !o.force)
    throw new UsageError(`${o.out} exists; use --force to overwrite`);
  writeFileSync(o.out, `${JSON.stringify(defaultConfig(), null, 2)}\n`, { mode: 0o600 });
  io.out(
    `wrote ${o.out}; set the target's reader name (custodian readers lists them) and the trust anchors\n`,
  );
}

/** `serve --config F`: runs until SIGINT/SIGTERM. */
export async function serve(
  o: { config: string },
  io: CliIo,
  openEmulator: EmulatorOpener | undefined,
  signal: Promise<void>,
): Promise<void> {
  const c = loadConfig(o.config);
  if (!c.ok) throw new UsageError(c.error.message);
  const openerFor = (t: TargetConfig): TransportOpener => {
    const state = t.emulatorState;
    if (state === undefined) return defaultOpener(t);
    if (!openEmulator) return defaultOpener(t);
    return () => openEmulator(state);
  };
  const deps: AppDeps = { openerFor, log: (l) => io.err(`${l}\n`) };
  let running;
  try {
    running = await startServer(c.value, deps);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES')
      throw new UsageError(`cannot listen: ${messageOf(e)}`);
    throw e;
  }
  io.out(`custodian-server listening on ${running.url} (custodians: ${running.wsUrl})\n`);
  if (running.fingerprint)
    io.out(`TLS certificate SHA-256 fingerprint (custodians pin this): ${running.fingerprint}\n`);
  else io.out('plain ws on loopback only (no TLS)\n');
  io.out(`admin token in ${c.value.dataDir}/admin-token\n`);
  await signal;
  const stopped = await withinDeadline(running.stop().then(closeDefaultPcsc), STOP_DEADLINE_MS);
  if (stopped) io.out('custodian-server stopped\n');
  else
    io.err(`custodian-server: shutdown took over ${STOP_DEADLINE_MS / 1000} s; exiting anyway\n`);
}

/** How long shutdown (connections, targets, PC/SC context, store) may take before we give up. */
const STOP_DEADLINE_MS = 10_000;

/** True when `work` settles within `ms`; its failure counts as done (we are exiting anyway). */
function withinDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    work
      .then(
        () => resolve(true),
        () => resolve(true),
      )
      .finally(() => clearTimeout(timer));
  });
}
