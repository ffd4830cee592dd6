import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createWsConnector } from '../../../../core/net/ws-transport';

/** A TLS WebSocket server with a fresh self-signed certificate (openssl CLI). */
let server: Server;
let wss: WebSocketServer;
let port = 0;
let fingerprint = '';
let certPem = '';
const received: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wss-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  fingerprint = new X509Certificate(certPem).fingerprint256;
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: certPem });
  wss = new WebSocketServer({
    server,
    handleProtocols: (p) => (p.has('custodian.v1') ? 'custodian.v1' : false),
  });
  wss.on('connection', (ws, req) => {
    received.push(req.url ?? '');
    ws.on('message', (d) => ws.send(`echo:${String(d)}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  wss.close();
  await new Promise((r) => server.close(r));
});

function run(pin: NonNullable<Parameters<typeof createWsConnector>[0]>['pin'], host = '127.0.0.1') {
  return new Promise<{ opened: boolean; texts: string[]; error?: string; code: number }>(
    (resolve) => {
      const texts: string[] = [];
      let opened = false;
      let error: string | undefined;
      const conn = createWsConnector(pin ? { pin } : {})(`wss://${host}:${port}/c`, {
        onOpen: () => {
          opened = true;
          conn.send('hi');
        },
        onText: (t) => {
          texts.push(t);
          conn.close(1000, 'done');
        },
        onBadFrame: () => undefined,
        onError: (e) => (error = e.message),
        onClose: (code) =>
          resolve(error === undefined ? { opened, texts, code } : { opened, texts, error, code }),
      });
    },
  );
}

describe('ws connector TLS pinning', () => {
  it('connects when the certificate fingerprint matches the pin', async () => {
    const r = await run({ kind: 'fingerprint', sha256: fingerprint });
    expect(r.opened).toBe(true);
    expect(r.texts).toEqual(['echo:hi']);
  });

  it('refuses a different fingerprint before sending the upgrade request', async () => {
    const before = received.length;
    const r = await run({ kind: 'fingerprint', sha256: 'ab'.repeat(32) });
    expect(r.opened).toBe(false);
    expect(r.error).toMatch(/does not match the pinned/);
    expect(received.length).toBe(before);
  });

  it('accepts the server when its CA is pinned and refuses without it', async () => {
    const ok = await run({ kind: 'ca', pem: certPem }, 'localhost');
    expect(ok.opened).toBe(true);
    const bad = await run(undefined, 'localhost');
    expect(bad.opened).toBe(false);
  });
});
