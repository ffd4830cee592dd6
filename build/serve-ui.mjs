#!/usr/bin/env node
// Serves the renderer built with the fake bridge (out/renderer-dev) on loopback, with the
// same Content-Security-Policy header as the desktop app (shared/renderer-csp.ts, loaded through
// tsx; a UI test checks the header). Usage: node build/serve-ui.mjs [--port N] [--root DIR]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { RENDERER_CSP: CSP } = await import('../shared/renderer-csp.ts');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const root = resolve(arg('--root', 'out/renderer-dev'));
const port = Number(arg('--port', '5173'));
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = normalize(join(root, path === '/' ? 'index.html' : path));
  const type = types[extname(file)];
  if (!file.startsWith(root + sep) || type === undefined || req.method !== 'GET') {
    res.writeHead(404).end('not found');
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': type,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`UI with the fake bridge: http://127.0.0.1:${actual}/?scenario=normal`);
  console.log(
    'Scenarios: normal first-run no-key pinpad last-try hostile errors empty. PIN: 123456',
  );
});
