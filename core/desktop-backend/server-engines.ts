/**
 * One custodian engine per configured server: the session credential and TLS pin from the
 * server home, the engine with its decision store and signing journal in that home, and the
 * engine's events handed to the backend's parts (ceremony book, trust cues, approvals).
 * @module
 */
import { join } from 'node:path';
import type { TrustAnchor } from '../../shared/cvc/chain';
import type { ServerView } from '../../shared/ipc/model';
import { fileDecisionStore } from '../custodian/decision-store';
import { createCustodianEngine, type CustodianEngine } from '../custodian/engine';
import type { AuditAppender, EngineEvent } from '../custodian/engine-types';
import { fileSigningJournal } from '../custodian/signing-journal';
import type { Timers } from '../net/timers';
import type { ServerPin } from '../net/url-policy';
import type { WsConnector } from '../net/ws-transport';
import type { Approvals } from './approvals';
import type { CeremonyBook } from './ceremony-book';
import { loadServerCredential, type CredentialPort, type ServerHome } from './server-homes';
import { serverPinOf } from './server-setup';
import type { Trust } from './trust';
import { serverStateOf } from './views';

/** A configured server and its running engine. */
export type RunningServer = {
  readonly home: ServerHome;
  engine: CustodianEngine | undefined;
  state: ServerView['state'];
  /** Why it is not connected (configuration or credential problems). */
  problem?: string;
};

/** What starting a server's engine needs. */
export type ServerEngineDeps = {
  readonly anchors: readonly TrustAnchor[];
  readonly audit: AuditAppender;
  readonly connectorFor: (pin: ServerPin | undefined) => WsConnector;
  readonly client: { readonly name: string; readonly version: string };
  readonly credentials: CredentialPort | undefined;
  readonly timers: Timers | undefined;
  readonly log: (line: string) => void;
  /** Receives every event of the server's engine. */
  readonly onEvent: (s: RunningServer, event: EngineEvent) => void;
};

/**
 * Creates the engine of a server home (not started). A missing credential or an unusable pin
 * leaves the server in `error` with the reason, without an engine.
 */
export async function openServerEngine(
  home: ServerHome,
  d: ServerEngineDeps,
): Promise<RunningServer> {
  const s: RunningServer = { home, engine: undefined, state: 'connecting' };
  const fail = (problem: string) => {
    s.state = 'error';
    s.problem = problem;
    d.log(`server ${home.id}: ${problem}`);
    return s;
  };
  const credential = await loadServerCredential(home, d.credentials);
  if (!credential.ok) return fail(credential.reason);
  const c = home.config;
  const pin = serverPinOf(c.server, home.home);
  if (!pin.ok) return fail(pin.error);
  const engine = createCustodianEngine({
    url: c.server.url,
    connector: d.connectorFor(pin.value),
    auth: { kind: 'session', custodianId: c.custodianId!, credential: credential.value },
    anchors: d.anchors,
    ownKey: c.keyChr !== undefined ? { keyId: c.keyId!, chr: c.keyChr } : { keyId: c.keyId! },
    audit: d.audit,
    decisions: fileDecisionStore(join(home.home, 'decisions.jsonl')),
    journal: fileSigningJournal(join(home.home, 'signing-journal.jsonl')),
    client: d.client,
    ...(d.timers ? { timers: d.timers } : {}),
  });
  s.engine = engine;
  engine.on((e) => d.onEvent(s, e));
  return s;
}

/** What the engines' events update. */
export type EngineEventTargets = {
  readonly book: CeremonyBook;
  readonly trust: Trust;
  readonly approvals: Approvals;
  readonly emitServers: () => void;
  readonly emitCeremonies: () => void;
};

/** Hands one engine event of server `s` to the ceremony book, the trust cues and the approvals. */
export function routeEngineEvent(t: EngineEventTargets, s: RunningServer, e: EngineEvent): void {
  const serverId = s.home.id;
  switch (e.type) {
    case 'connection':
      s.state = serverStateOf(e.state);
      return t.emitServers();
    case 'offer-added':
    case 'offer-updated':
      t.book.offer(serverId, e.offer);
      return t.emitCeremonies();
    case 'offer-removed':
      if (t.book.removed(e.ceremonyId, e.reason)) t.emitCeremonies();
      return;
    case 'offer-rejected':
      return t.trust.offerRejected(serverId, e.offer, e.rejection);
    case 'server-suspicious':
      // The engine disconnected for good (docs/protocol.md §8); reconnecting is the user's call.
      return t.trust.serverSuspicious(
        serverId,
        `${e.reason} (${String(e.refusedCount)} refused offers). Contact your security officer out of band: the server operator may be the attacker.`,
      );
    case 'result': {
      const r = e.result;
      t.approvals.onResult(r);
      if (t.book.ownResult(r.ceremonyId, r.offerId, r.progress, r.outcome === 'accepted'))
        t.emitCeremonies();
      return;
    }
    default:
      return;
  }
}
