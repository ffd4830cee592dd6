/**
 * The real `sc-hsm-emulator` CLI (bin/sc-hsm-emulator.mjs) as a child process: `create` a state
 * file, `serve` it into a vpcd slot and wait until pcscd reports the card, stop it with a signal
 * and wait until pcscd reports the removal. Every wait is bounded; `cleanup()` kills whatever
 * is left. The fleet takes a slot's cross-process lock (virtual-card-harness) on its first
 * `serve` there and keeps it until `cleanup()`, so no other test process sharing pcscd inserts
 * a card between a stop and a restart (or while a test checks that the reader is empty).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Pcsc } from '../../../core/pcsc/pcsc-adapter';
import type { VpcdSlot } from '../helpers/pcscd';
import { isCardPresent, lockSlot, nextEvent } from '../helpers/virtual-card-harness';
import { runTool, type ToolResult } from './opensc-tools';

/** The emulator launcher, run with this Node binary (tsx is registered by the launcher). */
export const EMULATOR_BIN = fileURLToPath(
  new URL('../../../bin/sc-hsm-emulator.mjs', import.meta.url),
);

/** How a child process ended. */
export type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };

/** A running `sc-hsm-emulator serve` whose card pcscd has seen. */
export type ServedEmulator = {
  readonly pid: number;
  readonly slot: VpcdSlot;
  readonly stateFile: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` (default SIGTERM); resolves with the exit once pcscd saw the card leave. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
};

/** Timeouts (ms) of the fleet; all generous for a loaded 2-core CI box. */
export type FleetTimeouts = {
  /** Waiting for the slot lock held by another test process. */
  readonly lock: number;
  /** Spawn → pcscd reports the card inserted. */
  readonly insert: number;
  /** Signal → process exit, and exit → pcscd reports the card removed. */
  readonly stop: number;
};

const DEFAULT_TIMEOUTS: FleetTimeouts = { lock: 45_000, insert: 20_000, stop: 15_000 };

/** `sc-hsm-emulator <args>` to completion (create, info), bounded. */
export function emulatorCli(args: readonly string[], timeoutMs = 30_000): Promise<ToolResult> {
  return runTool(process.execPath, [EMULATOR_BIN, ...args], { timeoutMs });
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Starts and stops emulator processes on vpcd slots; owns nothing else. */
export class EmulatorFleet {
  private readonly live = new Map<ChildProcess, VpcdSlot>();
  private readonly locks = new Map<number, () => void>();
  private readonly timeouts: FleetTimeouts;

  /** `pcsc` is the context used to watch pcscd's reader events (the caller closes it). */
  constructor(
    private readonly pcsc: Pcsc,
    timeouts: Partial<FleetTimeouts> = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }

  /** `serve --state stateFile --vpcd 127.0.0.1:<slot port>`; resolves once the card is in. */
  async serve(stateFile: string, slot: VpcdSlot): Promise<ServedEmulator> {
    const t = this.timeouts;
    if (!this.locks.has(slot.port)) this.locks.set(slot.port, await lockSlot(slot.port, t.lock));
    let child: ChildProcess | undefined;
    let err = '';
    try {
      if (!(await this.pcsc.listReaders()).includes(slot.reader)) {
        throw new Error(`reader "${slot.reader}" is not listed by pcscd`);
      }
      if (isCardPresent(this.pcsc, slot.reader)) {
        // A card of a process that does not take the slot lock: wait for it to leave.
        await nextEvent(
          this.pcsc,
          (e) => e.type === 'card-removed' && e.reader === slot.reader,
          t.lock,
          `free ${slot.reader}`,
        );
      }
      const inserted = nextEvent(
        this.pcsc,
        (e) => e.type === 'card-inserted' && e.reader === slot.reader,
        t.insert,
        `emulator card into ${slot.reader}`,
      );
      inserted.catch(() => undefined);
      child = spawn(
        process.execPath,
        [EMULATOR_BIN, 'serve', '--state', stateFile, '--vpcd', `127.0.0.1:${slot.port}`],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (d: string) => {
        err += d;
      });
      const exited = exitOf(child).then((x) => {
        throw new Error(
          `emulator exited before pcscd saw the card (code ${String(x.code)}, signal ${String(x.signal)}): ${err}`,
        );
      });
      await Promise.race([inserted, exited]);
    } catch (e) {
      child?.kill('SIGKILL');
      if (child !== undefined) await exitOf(child);
      throw e;
    }
    const proc = child;
    this.live.set(proc, slot);
    let stopping: Promise<Exit> | undefined;
    const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
      stopping ??= (async () => {
        try {
          const removed = isCardPresent(this.pcsc, slot.reader)
            ? nextEvent(
                this.pcsc,
                (e) => e.type === 'card-removed' && e.reader === slot.reader,
                2 * t.stop,
                `emulator card out of ${slot.reader}`,
              )
            : Promise.resolve(undefined);
          removed.catch(() => undefined);
          proc.kill(signal);
          let exit: Exit;
          try {
            exit = await within(exitOf(proc), t.stop, `emulator pid ${proc.pid} after ${signal}`);
          } catch (e) {
            proc.kill('SIGKILL');
            await exitOf(proc);
            throw e;
          }
          await removed;
          return exit;
        } finally {
          this.live.delete(proc);
        }
      })();
      return stopping;
    };
    return {
      pid: proc.pid ?? -1,
      slot,
      stateFile,
      stderr: () => err,
      stop,
    };
  }

  /** Kills every process still serving (SIGKILL), then releases the slot locks. */
  async cleanup(): Promise<void> {
    for (const [child, slot] of [...this.live]) {
      this.live.delete(child);
      const removed = isCardPresent(this.pcsc, slot.reader)
        ? nextEvent(
            this.pcsc,
            (e) => e.type === 'card-removed' && e.reader === slot.reader,
            this.timeouts.stop,
            `emulator card out of ${slot.reader}`,
          )
        : Promise.resolve(undefined);
      child.kill('SIGKILL');
      await within(exitOf(child), 5_000, 'killed emulator').catch(() => undefined);
      await removed.catch(() => undefined);
    }
    for (const release of this.locks.values()) release();
    this.locks.clear();
  }
}
