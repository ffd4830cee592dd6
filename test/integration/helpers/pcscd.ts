/**
 * pcscd and vpcd for integration tests: find, start and restart the daemon, discover the vpcd
 * reader slots, and guard suites that need them. Locally a missing environment SKIPS those
 * suites with the reason; with CI=true it FAILS them, so CI can never pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { openPcsc, type Pcsc } from '../../../core/pcsc/pcsc-adapter';
import { isAlive, lockFile } from '../../../emulator/file-lock';
import { findSystemBinary } from '../../../emulator/pcsc-wait';
import {
  READER_CONF_DIR,
  vpcdConfigs,
  vpcdSlots,
  type VpcdSlot,
} from '../../../emulator/vpcd-slots';
import { messageOf } from '../../../shared/error-message';

export { READER_CONF_DIR, vpcdConfigs, vpcdSlots, type VpcdSlot };

/** Where pcsc-lite puts its socket and pid file (Debian build, `pcscd -v`). */
export const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
export const PCSCD_PID_FILE = '/run/pcscd/pcscd.pid';
/** The vpcd base port of the Debian `vsmartcard-vpcd` config (CHANNELID 0x8C7B); slot n uses base+n. */
export const VPCD_BASE_PORT = 35963;

/** Whether pcscd can be used here, and if not, why. */
export type PcscAvailability =
  | { readonly ok: true; readonly slots: readonly VpcdSlot[] }
  | { readonly ok: false; readonly reason: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of the running pcscd, from its pid file, if that process is alive. */
export function pcscdPid(): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(PCSCD_PID_FILE, 'utf8').trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Every running pcscd process (from /proc), whether or not the pid file names it. */
export function pcscdProcesses(): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() === 'pcscd') pids.push(Number(e));
    } catch {
      // the process just exited
    }
  }
  return pids;
}

/** True when pcscd runs and its socket exists. */
export function isPcscdRunning(): boolean {
  return pcscdPid() !== undefined && existsSync(PCSCD_SOCKET);
}

/** Serialises pcscd starts across processes (vitest workers, parallel local runs). */
const START_LOCK = join(tmpdir(), 'custodian-pcscd-start.lock');

/** Starts pcscd (daemon mode) unless it runs; resolves once its socket accepts clients. */
export async function startPcscd(timeoutMs = 10_000): Promise<void> {
  if (isPcscdRunning()) return;
  const bin = findSystemBinary('pcscd');
  if (bin === undefined) throw new Error('pcscd is not installed (apt-get install pcscd)');
  if (process.getuid?.() !== 0) throw new Error('pcscd is not running and only root can start it');
  const release = await lockFile(START_LOCK, 2 * timeoutMs, 'pcscd start');
  try {
    // A pcscd that is starting (or lost its pid file) must not get a twin: two daemons split
    // the socket and the vpcd ports between them and neither works.
    if (pcscdProcesses().length === 0) {
      // Without --foreground pcscd forks into the background and the parent exits at once.
      const r = spawnSync(bin, [], { stdio: 'ignore', timeout: 5000 });
      if (r.error) throw r.error;
    }
    const deadline = Date.now() + timeoutMs;
    while (!isPcscdRunning()) {
      if (Date.now() > deadline) {
        const pids = pcscdProcesses();
        throw new Error(
          pids.length > 0
            ? `pcscd (pid ${pids.join(', ')}) runs but ${PCSCD_SOCKET} or its pid file is missing`
            : `pcscd did not come up within ${timeoutMs} ms`,
        );
      }
      await sleep(50);
    }
  } finally {
    release();
  }
}

/** Stops the running pcscd (SIGTERM to the pid in its pid file) and waits until it is gone. */
export async function stopPcscd(timeoutMs = 10_000): Promise<void> {
  const pid = pcscdPid();
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pcscdPid() === pid || isAlive(pid)) {
    if (Date.now() > deadline)
      throw new Error(`pcscd (pid ${pid}) did not stop within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Restarts pcscd (e.g. after a reader.conf change, or to recover a wedged daemon). */
export async function restartPcscd(): Promise<void> {
  await stopPcscd();
  await startPcscd();
}

/** The extra reader.conf entry written when the installed vpcd offers only one slot. */
export const SECOND_VPCD_CONF = join(READER_CONF_DIR, 'custodian-vpcd-2');

/** Adds a second vpcd reader on VPCD_BASE_PORT + 1 and restarts pcscd (root only). */
export async function addSecondVpcdReader(): Promise<void> {
  const port = VPCD_BASE_PORT + 1;
  const hex = `0x${port.toString(16).toUpperCase()}`;
  writeFileSync(
    SECOND_VPCD_CONF,
    [
      '# Written by the Custodian test harness: a second virtual reader for two-card tests.',
      'FRIENDLYNAME "Virtual PCD B"',
      `DEVICENAME   /dev/null:${hex}`,
      'LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so',
      `CHANNELID    ${hex}`,
      '',
    ].join('\n'),
  );
  await restartPcscd();
}

/** Waits until pcscd lists every reader in `names` (or at least `names` readers if a number). */
export async function waitForReaders(
  names: readonly string[] | number,
  timeoutMs = 10_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const pcsc = await openPcsc();
      try {
        last = await pcsc.listReaders();
      } finally {
        await pcsc.close();
      }
      const done =
        typeof names === 'number' ? last.length >= names : names.every((n) => last.includes(n));
      if (done) return last;
    } catch (e) {
      lastError = e;
    }
    await sleep(200);
  }
  throw new Error(
    `readers not available within ${timeoutMs} ms (have: ${last.join(', ') || 'none'})`,
    { cause: lastError },
  );
}

/** Checks (and where possible prepares) pcscd with two vpcd slots. Never throws. */
export async function pcscAvailability(): Promise<PcscAvailability> {
  const no = (reason: string): PcscAvailability => ({ ok: false, reason });
  if (findSystemBinary('pcscd') === undefined)
    return no('pcscd is not installed (apt-get install pcscd)');
  if (vpcdConfigs().length === 0)
    return no('no vpcd reader configured (apt-get install vsmartcard-vpcd)');
  try {
    await startPcscd();
  } catch (e) {
    return no(`pcscd unavailable: ${messageOf(e)}`);
  }
  let pcsc: Pcsc;
  try {
    pcsc = await openPcsc();
  } catch (e) {
    return no(messageOf(e));
  }
  try {
    let slots = await vpcdSlots(pcsc);
    if (slots.length === 1 && process.getuid?.() === 0 && !existsSync(SECOND_VPCD_CONF)) {
      await pcsc.close();
      await addSecondVpcdReader();
      await waitForReaders(2);
      pcsc = await openPcsc();
      slots = await vpcdSlots(pcsc);
    }
    const daemons = pcscdProcesses();
    if (slots.length < 2 && daemons.length > 1) {
      return no(
        `${daemons.length} pcscd processes run (pids ${daemons.join(', ')}); stop all but one`,
      );
    }
    if (slots.length < 2)
      return no(
        `need two vpcd readers, pcscd lists: ${(await pcsc.listReaders()).join(', ') || 'none'}`,
      );
    return { ok: true, slots };
  } catch (e) {
    return no(messageOf(e));
  } finally {
    await pcsc.close().catch(() => undefined);
  }
}

/** Whether this run is CI (where a missing environment is a failure, not a skip). */
export const isCi = (): boolean => process.env.CI === 'true';

/**
 * `describe` for suites that need pcscd + vpcd: runs them when `availability.ok`; otherwise
 * skips them with the reason locally, and fails them in CI.
 */
export function describePcsc(
  name: string,
  availability: PcscAvailability,
  fn: (slots: readonly VpcdSlot[]) => void,
): void {
  if (availability.ok) {
    describe(name, () => fn(availability.slots));
    return;
  }
  const { reason } = availability;
  if (isCi()) {
    describe(name, () => {
      it('has pcscd and vpcd available', () => {
        throw new Error(`PC/SC integration environment missing in CI: ${reason}`);
      });
    });
    return;
  }
  describe.skip(`${name} [skipped: ${reason}]`, () => fn([]));
}
