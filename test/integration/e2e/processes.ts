/**
 * Child processes of the end-to-end suites: the real launchers in bin/ (`custodian`,
 * `custodian-server`, `sc-hsm-emulator`), with output captured, bounded waits, and a registry so
 * afterAll can stop every child this file started (by pid, never by name).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The launchers. */
export const BIN = {
  custodian: join(ROOT, 'bin', 'custodian.mjs'),
  server: join(ROOT, 'bin', 'custodian-server.mjs'),
  emulator: join(ROOT, 'bin', 'sc-hsm-emulator.mjs'),
} as const;

/** A running child. */
export type Child = {
  readonly proc: ChildProcess;
  readonly name: string;
  out(): string;
  err(): string;
  /** Resolves once stdout+stderr match `pattern` (from offset `from` of the combined text). */
  waitFor(pattern: RegExp, what: string, ms?: number, from?: number): Promise<RegExpExecArray>;
  /** Combined output so far (stdout then stderr order of arrival). */
  all(): string;
  /** Exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; SIGKILL after `ms`. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<number | null>;
};

const live = new Set<Child>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `node <script> <args>`. */
export function spawnNode(
  name: string,
  script: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions; cwd?: string } = {},
): Child {
  const proc = spawn(process.execPath, [script, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let all = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    all += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    all += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', () => resolve(-1));
  });
  let done = false;
  const child: Child = {
    proc,
    name,
    out: () => out,
    err: () => err,
    all: () => all,
    exited,
    async waitFor(pattern, what, ms = 20_000, from = 0) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = pattern.exec(all.slice(from));
        if (m) return m;
        if (done) throw new Error(`${name} exited before ${what}:\n${all.slice(-2000)}`);
        if (Date.now() > deadline)
          throw new Error(`${name}: no ${what} within ${ms} ms:\n${all.slice(-2000)}`);
        await sleep(50);
      }
    },
    async stop(signal = 'SIGTERM', ms = 10_000) {
      if (!done && proc.pid !== undefined) proc.kill(signal);
      const timer = setTimeout(() => {
        if (!done) proc.kill('SIGKILL');
      }, ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  void exited.then(() => {
    done = true;
    live.delete(child);
  });
  live.add(child);
  return child;
}

/** Runs a launcher to completion (killed after `ms`). */
export async function runNode(
  name: string,
  script: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions; ms?: number } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const c = spawnNode(name, script, args, opts);
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), opts.ms ?? 60_000);
  const code = await c.exited;
  clearTimeout(timer);
  return { code, out: c.out(), err: c.err() };
}

/** Stops every child still running (afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop('SIGTERM', 5000)));
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
