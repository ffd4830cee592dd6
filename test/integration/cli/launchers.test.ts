/**
 * The launchers of bin/ run the prebuilt bundles of dist/cli (`npm run build:cli`, rebuilt by
 * this project's global setup): no TypeScript, no tsx at run time. Each test copies the launchers
 * into a scratch directory whose only node_modules entry is the native better-sqlite3 the server
 * bundle imports, so anything else the bundles needed at run time (tsx, a .ts source, a bundled
 * npm package) would fail to load there.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The commands of package.json "bin", with a word their `--help` prints. */
const COMMANDS = [
  ['custodian', /Usage: custodian /],
  ['custodian-server', /Usage: custodian-server /],
  ['sc-hsm-emulator', /Usage: sc-hsm-emulator /],
] as const;

type Result = { code: number | null; stdout: string; stderr: string };

function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { timeout: 30_000, env: { ...process.env, CUSTODIAN_FROM_SOURCE: '', ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A scratch copy of bin/ (launchers only), optionally with the built dist/cli. */
function scratch(withBundles: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-launchers-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'bin'));
  cpSync(join(ROOT, 'bin', 'launch.mjs'), join(dir, 'bin', 'launch.mjs'));
  for (const [name] of COMMANDS) {
    cpSync(join(ROOT, 'bin', `${name}.mjs`), join(dir, 'bin', `${name}.mjs`));
  }
  if (withBundles) {
    cpSync(join(ROOT, 'dist', 'cli'), join(dir, 'dist', 'cli'), { recursive: true });
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(
      join(ROOT, 'node_modules', 'better-sqlite3'),
      join(dir, 'node_modules', 'better-sqlite3'),
    );
  }
  return dir;
}

describe('bin/ launchers', () => {
  it.each(COMMANDS)('%s runs its prebuilt bundle without tsx or sources', async (name, usage) => {
    const dir = scratch(true);
    const r = await run(join(dir, 'bin', `${name}.mjs`), ['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(usage);
  });

  it.each(COMMANDS)(
    '%s without its bundle fails with a setup error naming npm run build:cli',
    async (name) => {
      const dir = scratch(false);
      const r = await run(join(dir, 'bin', `${name}.mjs`), ['--help']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${name}: the prebuilt command`);
      expect(r.stderr).toContain('npm run build:cli');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    },
  );

  it('CUSTODIAN_FROM_SOURCE=1 runs the TypeScript sources through tsx (development only)', async () => {
    const real = await run(join(ROOT, 'bin', 'custodian.mjs'), ['--help'], {
      CUSTODIAN_FROM_SOURCE: '1',
    });
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/Usage: custodian /);
  });
});
