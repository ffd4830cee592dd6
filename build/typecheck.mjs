#!/usr/bin/env node
// Typechecks every layer with its own tsconfig (each layer has its own lib/types, so a stray
// `Buffer` in shared/ or `window` in core/ fails here). Layers without sources yet are skipped.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const layers = [
  'shared',
  'core',
  'cli',
  'server',
  'emulator',
  'electron',
  'renderer',
  'build',
  'demo',
  'test',
];
const hasSource = (dir) =>
  readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory()
      ? e.name !== 'node_modules' && hasSource(join(dir, e.name))
      : /\.tsx?$/.test(e.name),
  );
let failed = false;
for (const layer of layers) {
  if (!existsSync(join(layer, 'tsconfig.json')) || !hasSource(layer)) continue;
  try {
    execFileSync('npx', ['tsc', '-p', layer], { stdio: 'inherit' });
    console.log(`typecheck ${layer}: ok`);
  } catch {
    console.error(`typecheck ${layer}: FAILED`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
