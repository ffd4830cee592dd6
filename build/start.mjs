#!/usr/bin/env node
// `npm start`: builds the app and launches Electron when its binary is installed; otherwise
// explains how to install it (the binary is downloaded by electron's install script, which this
// repository's allowScripts keeps off by default).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let binary;
try {
  const pkgDir = dirname(require.resolve('electron/package.json'));
  const pathFile = join(pkgDir, 'path.txt');
  if (existsSync(pathFile)) binary = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
} catch {
  binary = undefined;
}
if (binary === undefined || !existsSync(binary)) {
  console.error(`The Electron binary is not installed here.

On a machine with internet access:
  node node_modules/electron/install.js      # downloads the Electron binary once
  npm start

Without Electron, run the UI in a browser with the fake bridge:
  npm run ui:serve                           # then open http://127.0.0.1:5173/`);
  process.exit(1);
}
execFileSync(process.execPath, ['build/bundle.mjs'], { stdio: 'inherit' });
const child = spawn(binary, ['out/main/main.cjs', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CUSTODIAN_DEV: process.env.CUSTODIAN_DEV ?? '0' },
});
child.on('exit', (code) => process.exit(code ?? 0));
