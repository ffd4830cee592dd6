/**
 * Global setup of the integration tests: rebuilds the prebuilt commands (dist/cli, `npm run
 * build:cli`) before any test spawns a launcher of bin/, so the child processes run the current
 * sources rather than a stale bundle.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs build/bundle-cli.mjs from the repository root. */
export function setup(): void {
  execFileSync(process.execPath, ['build/bundle-cli.mjs'], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
