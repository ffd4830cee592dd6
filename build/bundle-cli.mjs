#!/usr/bin/env node
// Bundles the command-line programs with esbuild into prebuilt JavaScript, so they start without
// compiling TypeScript: bin/entries/<name>.mjs → dist/cli/<name>.mjs (ESM, Node 20), run by the
// launchers bin/<name>.mjs. npm packages are bundled except the native ones, which Node loads
// from node_modules (better-sqlite3; pcsclite stays a lazy import in core/pcsc/pcsc-adapter.ts).
// Each file is written to a temporary name and renamed, so a command started during a rebuild
// runs the old or the new bundle, never half of one.
// Usage: node build/bundle-cli.mjs [--outdir DIR]
import { build } from 'esbuild';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The commands (package.json "bin"). */
const COMMANDS = ['custodian', 'custodian-server', 'sc-hsm-emulator'];

const args = process.argv.slice(2);
const i = args.indexOf('--outdir');
const outdir = i >= 0 && args[i + 1] !== undefined ? args[i + 1] : join('dist', 'cli');

const result = await build({
  entryPoints: COMMANDS.map((name) => join('bin', 'entries', `${name}.mjs`)),
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  write: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native modules (and ws's optional native helpers) load from node_modules at run time.
  external: ['better-sqlite3', 'pcsclite', 'bufferutil', 'utf-8-validate'],
  // Bundled CommonJS packages (ws, commander) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  minify: true,
  keepNames: true,
  // Stack positions map back to the sources with NODE_OPTIONS=--enable-source-maps.
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
await mkdir(outdir, { recursive: true });
for (const file of result.outputFiles) {
  const tmp = join(dirname(file.path), `.${basename(file.path)}.${process.pid}.tmp`);
  await writeFile(tmp, file.contents);
  await rename(tmp, file.path);
}
console.log(`bundled ${COMMANDS.join(', ')} into ${outdir}/`);
