#!/usr/bin/env node
// Bundles the desktop app with esbuild into out/: main (CommonJS, Node), preload (CommonJS,
// sandboxed: only `electron` stays external), renderer (ESM for the browser) and, with
// --dev, the renderer with the fake bridge (out/renderer-dev) for `npm run ui:serve` and the
// UI tests. Usage: node build/bundle.mjs [--dev-only] [--outdir DIR] [--no-minify]
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const outdir = value('--outdir', 'out');
const minify = !flag('--no-minify');
const devOnly = flag('--dev-only');

const common = { bundle: true, logLevel: 'warning', legalComments: 'none', sourcemap: false };

async function renderer(entry, dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await build({
    ...common,
    entryPoints: [entry],
    // A small entry (app.js) paints the static shell of index.html first and then imports the
    // React app as a chunk (renderer/main.tsx), so the bundle never delays the first paint.
    outdir: dir,
    entryNames: 'app',
    chunkNames: 'chunk-[hash]',
    splitting: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome120',
    jsx: 'automatic',
    minify,
    define: { 'process.env.NODE_ENV': JSON.stringify(minify ? 'production' : 'development') },
  });
  await copyFile('renderer/styles.css', join(dir, 'app.css'));
  await copyFile('renderer/index.html', join(dir, 'index.html'));
}

await renderer('renderer/dev/fake-main.tsx', join(outdir, 'renderer-dev'));
if (!devOnly) {
  await renderer('renderer/main.tsx', join(outdir, 'renderer'));
  await build({
    ...common,
    entryPoints: ['electron/main/main.ts'],
    outfile: join(outdir, 'main', 'main.cjs'),
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['electron', 'pcsclite', 'better-sqlite3'],
  });
  await build({
    ...common,
    entryPoints: ['electron/preload/preload.ts'],
    outfile: join(outdir, 'preload', 'preload.cjs'),
    platform: 'browser',
    format: 'cjs',
    target: 'chrome120',
    external: ['electron'],
  });
}
console.log(`bundled into ${outdir}/`);
