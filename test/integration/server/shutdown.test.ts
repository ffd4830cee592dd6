import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeviceState, saveState } from '../../../emulator/card/state-file';
import { freePort } from '../e2e/processes';
import { testCa } from '../custodian/harness';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';

const availability = await pcscAvailability();

// `custodian-server serve` must exit on the FIRST SIGTERM (or SIGINT), whatever its targets:
// a PC/SC target used to leave the PC/SC context open, so the process printed "stopped" and kept
// running until a second SIGTERM. Shutdown is bounded; each target kind is started and stopped.

const root = join(__dirname, '..', '..', '..');
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0))
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Target = Record<string, string>;

async function startServer(targets: (dir: string) => Target[]) {
  const dir = mkdtempSync(join(tmpdir(), 'cserver-stop-'));
  dirs.push(dir);
  const ca = testCa();
  writeFileSync(join(dir, 'root.cvc'), ca.root.cvc);
  saveState(join(dir, 'target.json'), createDeviceState(ca, { serial: 77101 }));
  const config = join(dir, 'server.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: await freePort() },
      tls: 'self-signed',
      dataDir: './data',
      targets: targets(dir),
      trustAnchors: ['./root.cvc'],
      unlock: { maxSeconds: 60, maxSignatures: 10 },
      ceremonyDefaults: { expiresInSeconds: 600 },
    }),
  );
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'custodian-server.mjs'), 'serve', '--config', config],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => void (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const deadline = Date.now() + 40_000;
  while (!stdout.includes('admin token')) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`server did not start: ${stdout} ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** Resolves with the exit code, or with 'still running' after `ms`. */
function exitWithin(exited: Promise<number | null>, ms: number) {
  return Promise.race([
    exited,
    new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms)),
  ]);
}

describe('custodian-server serve stops on the first signal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'with an emulator-state target (%s)',
    async (signal) => {
      const s = await startServer(() => [{ name: 't1', emulatorState: './target.json' }]);
      s.child.kill(signal);
      expect(await exitWithin(s.exited, 20_000)).toBe(0);
      expect(s.out()).toMatch(/custodian-server stopped/);
    },
    90_000,
  );
});

describePcsc(
  'custodian-server serve with a PC/SC target stops on the first signal',
  availability,
  () => {
    it.each(['SIGTERM', 'SIGINT'] as const)(
      'whose reader is empty or absent (%s)',
      async (signal) => {
        const s = await startServer(() => [
          { name: 'hw', reader: 'Custodian test reader that does not exist 00 00' },
        ]);
        s.child.kill(signal);
        expect(await exitWithin(s.exited, 20_000)).toBe(0);
        expect(s.out()).toMatch(/custodian-server stopped/);
      },
      90_000,
    );
  },
);
