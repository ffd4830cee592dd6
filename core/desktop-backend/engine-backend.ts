/**
 * The desktop app's backend: implements the `CustodianBackend` port (shared/ipc/backend.ts)
 * over the custodian engine — one engine per configured server — plus the card (readers, card
 * view, key creation, `.pka` export), the audit log and the APDU trace. It adds no card or
 * protocol logic of its own: offers are verified, approved and audited by core/custodian.
 * Every failure is answered with an IPC error code in words (errors.ts); nothing rejects.
 * @module
 */
import type { Timers } from '../net/timers';
import { createWsConnector, type WsConnector } from '../net/ws-transport';
import type { ServerPin } from '../net/url-policy';
import type { BackendEvent, CustodianBackend } from '../../shared/ipc/backend';
import { ipcError } from '../../shared/ipc/errors';
import type { ServerView } from '../../shared/ipc/model';
import { createApprovals } from './approvals';
import { openBackendHome } from './backend-home';
import { serialQueue, type CardAccess } from './card-access';
import { createKey, exportPka, inspectCard } from './card-views';
import { CeremonyBook } from './ceremony-book';
import { cardFailure } from './errors';
import { listAudit, verifyAudit } from './audit-views';
import { createServerSetup } from './server-add';
import { openServerEngine, routeEngineEvent, type RunningServer } from './server-engines';
import { listServerHomes, type CredentialPort, type ServerHome } from './server-homes';
import type { FingerprintReader } from './server-setup';
import { createTraceLog } from './trace-log';
import { createTrust } from './trust';
import { serverViewOf } from './views';
import { messageOf } from '../../shared/error-message';

/** Options of {@link createEngineBackend}. */
export type EngineBackendOptions = {
  /** The custodian home (`custodianHome()`): config, audit log, servers. */
  readonly home: string;
  /** PC/SC (`pcscCardAccess(openPcsc)`) or emulated cards in tests. */
  readonly cards: CardAccess;
  /** The shell's OS secret store for session credentials (default: 0600 files, like the CLI). */
  readonly credentials?: CredentialPort;
  /** WebSocket connector for a server pin (default: `ws` with the pin). */
  readonly connector?: (pin: ServerPin | undefined) => WsConnector;
  /** Reads a server's TLS certificate fingerprint (default: a TLS handshake). */
  readonly readFingerprint?: FingerprintReader;
  readonly now?: () => Date;
  readonly timers?: Timers;
  readonly client?: { readonly name: string; readonly version: string };
  /** How long an approval waits for the server's answer before reporting (default 20 s). */
  readonly resultTimeoutMs?: number;
  /** How long enrollment may take (default 30 s). */
  readonly enrollTimeoutMs?: number;
  readonly log?: (line: string) => void;
};

/** The backend plus its lifecycle. */
export type EngineBackend = CustodianBackend & {
  /** Connects every configured server. */
  start(): void;
  /** Disconnects, closes the audit log and the card access. */
  stop(): Promise<void>;
};

/** Calls every listener; a failing one is logged, never passed on. */
function broadcaster(log: (line: string) => void) {
  const listeners = new Set<(e: BackendEvent) => void>();
  const emit = (e: BackendEvent) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch (cause) {
        log(`backend listener failed: ${messageOf(cause)}`);
      }
    }
  };
  const subscribe = (listener: (e: BackendEvent) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  return { emit, subscribe };
}

/** The APDU trace of the approvals (its script lookups go to the ceremony book). */
function traceOf(book: CeremonyBook, now: () => Date, emit: (e: BackendEvent) => void) {
  const trace = createTraceLog(
    (ceremonyId, offerId, index) => {
      const o = book.get(ceremonyId)?.offer;
      return o && o.offerId === offerId ? o.verified.script[index] : undefined;
    },
    { now },
  );
  trace.on((entry) => emit({ type: 'trace', entry }));
  return trace;
}

const ok = <T>(value: T) => ({ ok: true as const, value });

/**
 * Creates the backend. Throws (with the reason in words) when the custodian home cannot be
 * used: an invalid config, unreadable trust anchors or an audit log that fails verification —
 * main then runs the stand-in backend that shows the reason.
 */
export async function createEngineBackend(options: EngineBackendOptions): Promise<EngineBackend> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => {});
  const root = options.home;
  const { config: rootConfig, anchors, audit } = await openBackendHome(root, now, log);
  const { emit, subscribe } = broadcaster(log);
  const servers = new Map<string, RunningServer>();
  const serverView = (s: RunningServer): ServerView => serverViewOf(s.home, s.state, anchors);
  // Trust cues (docs/desktop-app.md "Trust cues"): remembered devices and security alerts.
  const trust = createTrust({
    now,
    homeOf: (id) => servers.get(id)?.home.home,
    nameOf: (id) => {
      const s = servers.get(id);
      return s ? serverView(s).name : id;
    },
    book: () => book,
    decline: (r) => approvals.decline(r, emitCeremonies),
    emitAlerts: (alerts) => emit({ type: 'alerts', alerts: [...alerts] }),
  });
  const book = new CeremonyBook(now, trust.history);
  const trace = traceOf(book, now, emit);
  const auditSink = trace.tee(audit);
  const connectorFor = options.connector ?? ((pin) => createWsConnector(pin ? { pin } : {}));
  const client = options.client ?? { name: 'custodian-desktop', version: '0.1.0' };
  // One card action at a time: approvals, inspections and key creation never interleave.
  const serial = serialQueue();
  const openReader = (reader: string) => () => options.cards.open(reader);
  const emitServers = () =>
    emit({ type: 'servers', servers: [...servers.values()].map(serverView) });
  const emitCeremonies = () => {
    emit({ type: 'ceremonies', ceremonies: book.summaries() });
    trust.ceremoniesChanged();
  };
  const approvals = createApprovals({
    book,
    engineOf: (serverId) => servers.get(serverId)?.engine,
    serial,
    openCard: openReader,
    timeoutMs: options.resultTimeoutMs ?? 20_000,
  });
  const targets = { book, trust, approvals, emitServers, emitCeremonies };
  const startServer = async (home: ServerHome): Promise<RunningServer> => {
    const s = await openServerEngine(home, {
      anchors,
      audit: auditSink,
      connectorFor,
      client,
      credentials: options.credentials,
      timers: options.timers,
      log,
      onEvent: (server, e) => routeEngineEvent(targets, server, e),
    });
    servers.set(home.id, s);
    return s;
  };
  const setup = createServerSetup({
    root,
    anchors,
    cards: options.cards,
    open: openReader,
    serial,
    connectorFor,
    client,
    readFingerprint: options.readFingerprint,
    credentials: options.credentials,
    timeoutMs: options.enrollTimeoutMs ?? 30_000,
    now,
    audit: auditSink,
  });

  const { homes, broken } = listServerHomes(root);
  for (const b of broken) log(`server ${b.id}: ${b.reason}`);
  for (const h of homes) await startServer(h);
  const stopCardWatch = options.cards.watch?.(() => {
    void options.cards.listReaders().then(
      (readers) => emit({ type: 'readers', readers }),
      () => undefined,
    );
  });
  const keyIdOf = () => [...servers.values()][0]?.home.config.keyId ?? rootConfig?.keyId;
  const cardContext = (reader: string) => ({
    reader,
    open: openReader(reader),
    anchors,
    keyId: keyIdOf(),
    now: now(),
  });
  return {
    start() {
      for (const s of servers.values()) s.engine?.start();
    },
    async stop() {
      stopCardWatch?.();
      for (const s of servers.values()) s.engine?.stop();
      audit.close();
      await options.cards.close?.().catch(() => undefined);
    },
    listServers: async () => ok([...servers.values()].map(serverView)),
    previewServer: (r) => setup.preview(r),
    async addServer(r) {
      const added = await setup.add(r);
      if (!added.ok) return added;
      const s = await startServer(added.value);
      s.engine?.start();
      emitServers();
      return ok(serverView(s));
    },
    async removeServer({ serverId }) {
      const s = servers.get(serverId);
      if (!s) return { ok: false, error: ipcError('invalid-request', `no server ${serverId}`) };
      s.engine?.stop();
      servers.delete(serverId);
      book.dropServer(serverId);
      await setup.remove(serverId);
      emitServers();
      emitCeremonies();
      return ok(null);
    },
    async listReaders() {
      try {
        return ok(await options.cards.listReaders());
      } catch (e) {
        return { ok: false, error: cardFailure(e, 'list readers') };
      }
    },
    inspectCard: ({ reader }) => serial(() => inspectCard(cardContext(reader))),
    async createKey({ reader, label, pin }) {
      const r = await serial(() =>
        createKey({ ...cardContext(reader), label, ...(pin ? { pin } : {}) }),
      );
      if (!r.ok) return r;
      setup.rememberKey(r.value.key, reader);
      return ok(r.value.card);
    },
    async exportPka({ reader }) {
      const r = await serial(() => exportPka(cardContext(reader)));
      return r.ok ? ok({ fileName: r.value.fileName, bytes: r.value.bytes }) : r;
    },
    listCeremonies: async () => ok(book.summaries()),
    async getCeremony({ ceremonyId }) {
      const d = book.detail(ceremonyId);
      return d
        ? ok(d)
        : { ok: false, error: ipcError('ceremony-not-found', `no ceremony ${ceremonyId}`) };
    },
    async approveCeremony(r) {
      const done = await approvals.approve(r, emitCeremonies);
      const rec = book.get(r.ceremonyId);
      if (done.ok && rec) {
        trust.approved(rec.serverId, rec.offer.verified.deviceId, r.ceremonyId);
        emitCeremonies();
      }
      return done;
    },
    declineCeremony: async (r) => approvals.decline(r, emitCeremonies),
    cancelPinPad: async ({ ceremonyId }) => ok(approvals.cancelPinPad(ceremonyId)),
    listTrace: async ({ limit }) => ok(trace.list(limit)),
    listAudit: async ({ limit }) => ok(listAudit(audit.path, limit)),
    verifyAudit: async () => ok(verifyAudit(audit.path)),
    listAlerts: async () => ok(trust.list()),
    reportAlert: async ({ alertId }) => trust.report(alertId),
    subscribe,
  };
}
