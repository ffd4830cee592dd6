/**
 * The desktop app's backend: implements the `CustodianBackend` port (shared/ipc/backend.ts)
 * over the custodian engine — one engine per configured server — plus the card (readers, card
 * view, key creation, `.pka` export), the audit log and the APDU trace. It adds no card or
 * protocol logic of its own: offers are verified, approved and audited by core/custodian.
 * Every failure is answered with an IPC error code in words (errors.ts); nothing rejects.
 * @module
 */
import { join } from 'node:path';
import { describeAuditRecovery, openAuditLog, type AuditLog } from '../audit/audit-log';
import { auditFilePath, ensureHome, loadCustodianConfig } from '../config/custodian-config';
import { createCustodianEngine, type CustodianEngine } from '../custodian/engine';
import { fileDecisionStore } from '../custodian/decision-store';
import { fileSigningJournal } from '../custodian/signing-journal';
import type { Timers } from '../net/timers';
import { createWsConnector, type WsConnector } from '../net/ws-transport';
import type { ServerPin } from '../net/url-policy';
import type { CardTransportError } from '../card/transport';
import { bytesEqual } from '../../shared/codec/bytes';
import { productionAnchor, type TrustAnchor } from '../../shared/cvc/chain';
import type { BackendEvent, CustodianBackend } from '../../shared/ipc/backend';
import { ipcError } from '../../shared/ipc/errors';
import type { ServerView } from '../../shared/ipc/model';
import { loadAnchorFiles } from './anchors';
import { createApprovals } from './approvals';
import { recordingOpener, serialQueue, type CardAccess } from './card-access';
import { createKey, exportPka, inspectCard } from './card-views';
import { CeremonyBook } from './ceremony-book';
import { cardFailure } from './errors';
import { listAudit, verifyAudit } from './audit-views';
import { createServerSetup } from './server-add';
import {
  listServerHomes,
  loadServerCredential,
  type CredentialPort,
  type ServerHome,
} from './server-homes';
import { serverPinOf, type FingerprintReader } from './server-setup';
import { createTraceLog } from './trace-log';
import { createTrust } from './trust';
import { serverStateOf, serverViewOf } from './views';
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

/** A configured server and its running engine. */
export type RunningServer = {
  readonly home: ServerHome;
  engine: CustodianEngine | undefined;
  state: ServerView['state'];
  /** Why it is not connected (configuration or credential problems). */
  problem?: string;
};

/**
 * Creates the backend. Throws (with the reason in words) when the custodian home cannot be
 * used: an invalid config, unreadable trust anchors or an audit log that fails verification —
 * main then runs the stand-in backend that shows the reason.
 */
export async function createEngineBackend(options: EngineBackendOptions): Promise<EngineBackend> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? (() => {});
  const root = options.home;
  const rootConfig = loadCustodianConfig(root);
  if (!rootConfig.ok && rootConfig.error.code !== 'not-found')
    throw new Error(rootConfig.error.message);
  // Trust anchors are explicit: the production root is the only one built in (docs/card-reference.md
  // Appendix A); a test root comes only from the custodian config and is then always flagged
  // TEST (loadAnchorFiles marks it `configured`). There is deliberately no option to build in
  // another root.
  const anchors: TrustAnchor[] = [
    productionAnchor(),
    // The production root configured as a file as well stays the built-in one, never a TEST root.
    ...(await loadAnchorFiles(rootConfig.ok ? rootConfig.value.trustAnchors : [], root)).filter(
      (a) => !bytesEqual(a.cvc.encoded, productionAnchor().cvc.encoded),
    ),
  ];
  ensureHome(root);
  const audit: AuditLog = openAuditLog(
    auditFilePath(root, rootConfig.ok ? rootConfig.value : undefined),
    now,
  );
  if (audit.recovered) log(describeAuditRecovery(audit.recovered));
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
  const servers = new Map<string, RunningServer>();
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
  const trace = createTraceLog(
    (ceremonyId, offerId, index) => {
      const o = book.get(ceremonyId)?.offer;
      return o && o.offerId === offerId ? o.verified.script[index] : undefined;
    },
    { now },
  );
  trace.on((entry) => emit({ type: 'trace', entry }));
  const auditSink = trace.tee(audit);
  const connectorFor = options.connector ?? ((pin) => createWsConnector(pin ? { pin } : {}));
  const client = options.client ?? { name: 'custodian-desktop', version: '0.1.0' };
  const keyIdOf = () =>
    [...servers.values()][0]?.home.config.keyId ??
    (rootConfig.ok ? rootConfig.value.keyId : undefined);

  // One card action at a time: approvals, inspections and key creation never interleave.
  const serial = serialQueue();
  // The transport failure seen last (the engine keeps only its message).
  let lastTransport: CardTransportError | undefined;
  const openReader = recordingOpener(options.cards, (e) => {
    lastTransport = e;
  });

  const serverView = (s: RunningServer): ServerView => serverViewOf(s.home, s.state, anchors);
  const emitServers = () =>
    emit({ type: 'servers', servers: [...servers.values()].map(serverView) });
  const emitCeremonies = () => {
    emit({ type: 'ceremonies', ceremonies: book.summaries() });
    trust.ceremoniesChanged();
  };

  // The reader the engines' card opener uses; set inside the card queue by each approval.
  let approvalReader = '';
  const approvals = createApprovals({
    book,
    engineOf: (serverId) => servers.get(serverId)?.engine,
    serial,
    useReader: (reader) => {
      approvalReader = reader;
    },
    timeoutMs: options.resultTimeoutMs ?? 20_000,
    takeTransportError: () => {
      const e = lastTransport;
      lastTransport = undefined;
      return e;
    },
  });
  async function startServer(home: ServerHome): Promise<void> {
    const s: RunningServer = { home, engine: undefined, state: 'connecting' };
    servers.set(home.id, s);
    const credential = await loadServerCredential(home, options.credentials);
    const c = home.config;
    if (!credential.ok) {
      s.state = 'error';
      s.problem = credential.reason;
      log(`server ${home.id}: ${credential.reason}`);
      return;
    }
    const pin = serverPinOf(c.server, home.home);
    if (!pin.ok) {
      s.state = 'error';
      s.problem = pin.error;
      log(`server ${home.id}: ${pin.error}`);
      return;
    }
    const engine = createCustodianEngine({
      url: c.server.url,
      connector: connectorFor(pin.value),
      auth: { kind: 'session', custodianId: c.custodianId!, credential: credential.value },
      anchors,
      ownKey: c.keyChr !== undefined ? { keyId: c.keyId!, chr: c.keyChr } : { keyId: c.keyId! },
      openCard: () => openReader(approvalReader)(),
      audit: auditSink,
      decisions: fileDecisionStore(join(home.home, 'decisions.jsonl')),
      journal: fileSigningJournal(join(home.home, 'signing-journal.jsonl')),
      client,
      ...(options.timers ? { timers: options.timers } : {}),
    });
    s.engine = engine;
    engine.on((e) => {
      switch (e.type) {
        case 'connection':
          s.state = serverStateOf(e.state);
          return emitServers();
        case 'offer-added':
        case 'offer-updated':
          book.offer(home.id, e.offer);
          return emitCeremonies();
        case 'offer-removed':
          if (book.removed(e.ceremonyId, e.reason)) emitCeremonies();
          return;
        case 'offer-rejected':
          return trust.offerRejected(home.id, e.offer, e.rejection);
        case 'server-suspicious':
          // The engine disconnected for good (docs/protocol.md §8); reconnecting is the user's call.
          return trust.serverSuspicious(
            home.id,
            `${e.reason} (${String(e.refusedCount)} refused offers). Contact your security officer out of band: the server operator may be the attacker.`,
          );
        case 'result':
          approvals.onResult(e.result);
          if (
            book.ownResult(
              e.result.ceremonyId,
              e.result.offerId,
              e.result.progress,
              e.result.outcome === 'accepted',
            )
          )
            emitCeremonies();
          return;
        default:
          return;
      }
    });
  }

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
  const cardContext = (reader: string) => ({
    reader,
    open: openReader(reader),
    anchors,
    keyId: keyIdOf(),
    now: now(),
  });
  const ok = <T>(value: T) => ({ ok: true as const, value });

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
      await startServer(added.value);
      const s = servers.get(added.value.id)!;
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
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
