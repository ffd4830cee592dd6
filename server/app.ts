/**
 * Composition of the management server: store, targets, enrollment, ceremony engine, the
 * custodian WebSocket hub (`/ws`) and the admin API (`/api/…`) on one HTTP(S) listener.
 * @module
 */
import type { ADMIN_API, AnswerOf } from './api/admin-contract';
import type { FailureThrottle } from './net/admission';
import { mkdirSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ensureAdminToken } from './api/admin-token';
import { errorToHttp, sendJson } from './api/http-util';
import { route, type ApiDeps } from './api/routes';
import { CeremonyEngine } from './ceremonies/engine';
import type { ServerConfig, TargetConfig } from './config';
import { custodianKeyOf, loadTrustAnchors } from './enroll/pka-check';
import { Enrollment } from './enroll/enrollment';
import { CustodianHub } from './net/ws-hub';
import { secretsEqual } from './store/secrets';
import { writePidFile } from './store/pid-file';
import { openStore, type Store } from './store/store';
import { defaultOpener } from './targets/open-target';
import { TargetService, type TransportOpener } from './targets/target-service';
import { loadTls } from './tls';
import { pkcs11Route } from './pkcs11/admin-routes';
import { Pkcs11ClientStore } from './pkcs11/client-store';
import { startPkcs11Socket, type Pkcs11Socket } from './pkcs11/socket-server';
import { messageOf } from '../shared/error-message';

/** Injection points (tests, composition roots with an emulator). */
export type AppDeps = {
  /** Opens a target's card; default: PC/SC reader (exclusive). */
  readonly openerFor?: (target: TargetConfig) => TransportOpener;
  readonly clock?: () => Date;
  /** Monotonic milliseconds for expiry decisions (default `performance.now`). */
  readonly monotonic?: () => number;
  readonly heartbeatSeconds?: number;
  readonly helloTimeoutSeconds?: number;
  /** How failed authentications are delayed (tests shorten it). */
  readonly throttle?: FailureThrottle;
  readonly log?: (line: string) => void;
};

/** A running server. */
export type RunningServer = {
  /** Base URL of the listener (`https://…` or `http://…`). */
  readonly url: string;
  /** WebSocket URL for custodians. */
  readonly wsUrl: string;
  readonly port: number;
  readonly fingerprint: string | undefined;
  readonly adminToken: string;
  readonly store: Store;
  readonly engine: CeremonyEngine;
  readonly hub: CustodianHub;
  readonly targets: ReadonlyMap<string, TargetService>;
  /** Path of the PKCS#11 module socket, when configured. */
  readonly pkcs11Socket: string | undefined;
  stop(): Promise<void>;
};

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

/**
 * `/api/health` (no token): 200 `ok`, or 503 `degraded` with the reason while store writes
 * fail (server/README.md "Store failures"); the server keeps serving either way.
 */
function sendHealth(res: ServerResponse, store: Store, fingerprint: string | undefined): void {
  const h = store.health.status();
  const body: AnswerOf<typeof ADMIN_API.health> = {
    ok: h.state === 'ok',
    status: h.state,
    fingerprint: fingerprint ?? null,
  };
  if (h.state === 'ok') return sendJson(res, 200, body);
  sendJson(res, 503, { ...body, reason: h.reason, since: h.since, failures: h.failures });
}

/** Starts the server described by `config`. */
export async function startServer(
  config: ServerConfig,
  deps: AppDeps = {},
): Promise<RunningServer> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const clock = deps.clock ?? (() => new Date());
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const tls = loadTls(config);
  const adminToken = ensureAdminToken(config.dataDir);
  const anchors = loadTrustAnchors(config.trustAnchors);
  const store = openStore(join(config.dataDir, 'custodian.db'), clock);
  store.health.setLog(log);
  const targets = new Map<string, TargetService>();
  for (const t of config.targets) {
    const opener = (deps.openerFor ?? defaultOpener)(t);
    targets.set(
      t.name,
      new TargetService(
        t.name,
        t.label ?? t.name,
        opener,
        config.unlock,
        () => clock().getTime(),
        deps.monotonic,
      ),
    );
  }
  const enrollment = new Enrollment(store, targets, () => anchors, clock);
  const hub = new CustodianHub(store, enrollment, {
    ...(config.trustedProxies === undefined ? {} : { trustedProxies: config.trustedProxies }),
    ...(config.connections === undefined ? {} : { limits: config.connections }),
    ...(deps.throttle === undefined ? {} : { throttle: deps.throttle }),
    clock: () => clock().getTime(),
    ...(config.name === undefined ? {} : { serverName: config.name }),
    ...(deps.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: deps.heartbeatSeconds }),
    ...(deps.helloTimeoutSeconds === undefined
      ? {}
      : { helloTimeoutSeconds: deps.helloTimeoutSeconds }),
  });
  const engine = new CeremonyEngine(
    store,
    targets,
    hub,
    (c) => custodianKeyOf(c.pka),
    config.ceremonyDefaults,
    clock,
    deps.monotonic,
  );
  hub.attach(engine);
  const pkcs11Clients = new Pkcs11ClientStore(store.db, clock);

  let wsUrl = '';
  const invite = () => ({
    url: config.publicUrl ?? wsUrl,
    fingerprint: tls?.fingerprint,
    ...(config.name === undefined ? {} : { serverName: config.name }),
  });
  const api: ApiDeps = { store, targets, engine, enrollment, invite };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/api/health') return sendHealth(res, store, tls?.fingerprint);
      if (!path.startsWith('/api/')) return sendJson(res, 404, { error: 'not found' });
      const token = bearer(req);
      if (token === undefined || !secretsEqual(token, adminToken)) {
        return sendJson(res, 401, { error: 'admin token required (Authorization: Bearer …)' });
      }
      if (await pkcs11Route(store, pkcs11Clients, req, res)) return;
      if (!(await route(api, req, res))) sendJson(res, 404, { error: `no route ${path}` });
    })().catch((e: unknown) => {
      const { status, message, code } = errorToHttp(e);
      const what = `${req.method ?? '?'} ${JSON.stringify((req.url ?? '').slice(0, 200))}`;
      if (code === 'store') store.health.failed(`admin API ${what}`, e);
      else if (status === 500) log(`internal error on ${what}: ${(e as Error).stack ?? String(e)}`);
      else log(`admin API: ${status} ${what}: ${message}`);
      if (res.headersSent) res.end();
      else sendJson(res, status, { error: message, code });
    });
  };
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handler)
    : createHttpServer(handler);
  // Slow or stuck clients must not hold sockets open (the SSE stream is a response, so it is
  // not affected by these request-side limits).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === '/ws')
      hub.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  wsUrl = `${tls ? 'wss' : 'ws'}://${host}:${port}/ws`;
  store.audit.append('server-start', { url, fingerprint: tls?.fingerprint ?? null });
  const removePidFile = writePidFile(config.dataDir);
  for (const t of targets.values()) {
    await t.status().then(
      (s) => log(`target ${t.name}: ${s.connected ? `device ${s.deviceId}` : 'not reachable'}`),
      (e: unknown) => log(`target ${t.name}: ${messageOf(e)}`),
    );
  }
  await engine.start();
  let pkcs11: Pkcs11Socket | undefined;
  if (config.pkcs11) {
    pkcs11 = await startPkcs11Socket(config.pkcs11.socket, {
      store,
      engine,
      targets,
      clients: pkcs11Clients,
      log,
    });
    log(`PKCS#11 module socket: ${pkcs11.path}`);
  }
  return {
    url,
    wsUrl,
    port,
    fingerprint: tls?.fingerprint,
    adminToken,
    store,
    engine,
    hub,
    targets,
    pkcs11Socket: pkcs11?.path,
    async stop() {
      await pkcs11?.close();
      engine.stop();
      hub.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const t of targets.values()) await t.close().catch(() => undefined);
      store.close();
      removePidFile();
    },
  };
}
