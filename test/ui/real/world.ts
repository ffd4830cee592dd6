/**
 * The real world for the UI suite: the management server in-process on 127.0.0.1 with an
 * emulated target initialized for 2-of-3 PKA, three custodian cards on the same test PKI, and
 * the desktop backends (core/desktop-backend) that the loopback bridge puts behind the renderer.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEngineBackend,
  type EngineBackend,
} from '../../../core/desktop-backend/engine-backend';
import { openAuditLog, type AuditLog } from '../../../core/audit/audit-log';
import { createCustodianEngine, type CustodianEngine } from '../../../core/custodian/engine';
import type { EngineEvent } from '../../../core/custodian/engine-types';
import { createWsConnector } from '../../../core/net/ws-transport';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { asciiBytes } from '../../../shared/codec/bytes';
import { anchorFromCvc, productionAnchor } from '../../../shared/cvc/chain';
import { unwrap } from '../../../shared/result';
import { startServer, type RunningServer } from '../../../server/app';
import { parseConfig } from '../../../server/config';
import { inviteLetter } from '../../../server/admin-cli/admin-commands';
import {
  PIN,
  custodianCard,
  dataDir,
  targetCard,
  testCa,
  type CustodianCard,
  type TargetHandle,
} from '../../integration/server/harness';
import {
  emulatedCardAccess,
  type EmulatedReader,
} from '../../unit/core/desktop-backend/emulated-cards';
import { shownRef } from '../../integration/custodian/offer-ref';

export { PIN };

/** Everything the suite runs against. */
export type World = {
  readonly server: RunningServer;
  readonly target: TargetHandle;
  readonly cards: { a: CustodianCard; b: CustodianCard; c: CustodianCard };
  /** The server certificate's SHA-256 (upper-case hex, no colons), as an invitation letter shows it. */
  readonly fingerprint: string;
  /** Admin API call over TLS, trusting exactly the server's certificate. */
  admin<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /**
   * Custodian A's backend: the production root built in (nothing else can be), the test PKI's
   * root configured in A's custodian config, so A's app flags the target TEST.
   */
  readonly alice: EngineBackend;
  /** Custodian C's backend: configured the same way as A's. */
  readonly carol: EngineBackend;
  /** CHR of the test PKI's root both apps have configured. */
  readonly testRootChr: string;
  readonly aliceReader: EmulatedReader;
  /** Custodian B: the engine alone, approving in-process. */
  readonly bob: { engine: CustodianEngine; events: EngineEvent[]; audit: AuditLog };
  invite(name: string): Promise<string>;
  /** The whole invitation letter `custodian-server enroll create` prints for `name`. */
  letter(name: string): Promise<string>;
  close(): Promise<void>;
};

/** Builds the world (target 2-of-3, server, three cards, backends; only C and B enrolled). */
export async function buildWorld(): Promise<World> {
  const ca = testCa();
  const target: TargetHandle = { card: await targetCard(3, 2, ca), opens: 0, fail: false };
  const dir = dataDir(ca);
  // TLS with a self-signed certificate, as `custodian-server serve` runs without a CA.
  const config = unwrap(
    parseConfig(
      {
        name: 'Acme PKI (test)',
        listen: { host: '127.0.0.1', port: 0 },
        tls: 'self-signed',
        dataDir: join(dir.dir, 'data'),
        targets: [{ name: 't1', label: 'Release signing HSM', emulatorState: 'in-process' }],
        trustAnchors: [dir.anchor],
        unlock: { maxSeconds: 60, maxSignatures: 100 },
        ceremonyDefaults: { expiresInSeconds: 600 },
      },
      dir.dir,
    ),
  );
  const server = await startServer(config, {
    openerFor: () => async () => {
      target.opens += 1;
      return createInProcessTransport(target.card);
    },
    log: () => undefined,
  });
  const certPem = readFileSync(join(dir.dir, 'data', 'tls-cert.pem'), 'utf8');
  const fingerprint = server.fingerprint!.replace(/:/g, '').toUpperCase();
  const admin = <T>(method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: T }>((resolve, reject) => {
      const req = request(
        `${server.url}${path}`,
        {
          method,
          ca: certPem,
          headers: {
            authorization: `Bearer ${server.adminToken}`,
            'content-type': 'application/json',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const a = await custodianCard(ca);
  const b = await custodianCard(ca);
  const c = await custodianCard(ca);
  const invite = async (name: string) => {
    const r = await admin<{ token: string }>('POST', '/api/enrollments', {
      target: 't1',
      name,
    });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
    return r.body.token;
  };
  const letter = async (name: string) => {
    const r = await admin<Parameters<typeof inviteLetter>[0]>('POST', '/api/enrollments', {
      target: 't1',
      name,
    });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
    return `invite for ${name} at target t1:\n${inviteLetter(r.body)}`;
  };
  const testRoot = unwrap(anchorFromCvc(ca.root.cvc, 'test root'));
  // Both UI custodians configure the test root like any installation would (config.json
  // `trustAnchors`); the backend builds in the production root only.
  const homeWithTestRoot = (who: string) => {
    const h = mkdtempSync(join(tmpdir(), `custodian-${who}-`));
    writeFileSync(join(h, 'test-root.cvc'), ca.root.cvc);
    writeFileSync(
      join(h, 'config.json'),
      JSON.stringify({ version: 1, trustAnchors: ['test-root.cvc'] }),
      { mode: 0o600 },
    );
    return h;
  };

  const aliceReader: EmulatedReader = {
    name: 'Emulated SmartCard-HSM (Alice) 00 00',
    card: a.card,
    opens: 0,
  };
  const alice = await createEngineBackend({
    home: homeWithTestRoot('alice'),
    cards: emulatedCardAccess([aliceReader]),
    resultTimeoutMs: 10_000,
  });
  const carol = await createEngineBackend({
    home: homeWithTestRoot('carol'),
    cards: emulatedCardAccess([
      { name: 'Emulated SmartCard-HSM (Carol) 00 00', card: c.card, opens: 0 },
    ]),
  });
  const carolInvite = await invite('Carol');
  unwrap(await carol.previewServer({ url: server.url, invite: carolInvite }));
  unwrap(await carol.addServer({ url: server.url, invite: carolInvite }));

  // B: the engine alone, enrolling with its .pka over the protocol (server pinned by fingerprint).
  const bobToken = await invite('Bob');
  const bobAudit = openAuditLog(join(mkdtempSync(join(tmpdir(), 'custodian-bob-')), 'audit.jsonl'));
  const bobEvents: EngineEvent[] = [];
  const bobEngine = createCustodianEngine({
    url: server.wsUrl,
    connector: createWsConnector({
      pin: { kind: 'fingerprint', sha256: fingerprint.toLowerCase() },
    }),
    auth: { kind: 'enroll', token: bobToken, pka: b.pka, keyId: b.keyId },
    anchors: [productionAnchor(), testRoot],
    ownKey: { keyId: b.keyId, chr: b.chr },
    openCard: async () => createInProcessTransport(b.card),
    audit: bobAudit,
  });
  bobEngine.on((e) => void bobEvents.push(e));
  const bobEnrolled = new Promise<void>((resolve) =>
    bobEngine.on((e) => void (e.type === 'enrolled' && resolve())),
  );
  bobEngine.start();
  await bobEnrolled;
  carol.start();
  alice.start();
  return {
    server,
    target,
    cards: { a, b, c },
    fingerprint,
    admin,
    alice,
    carol,
    testRootChr: ca.root.chr,
    aliceReader,
    bob: { engine: bobEngine, events: bobEvents, audit: bobAudit },
    invite,
    letter,
    async close() {
      bobEngine.stop();
      bobAudit.close();
      await alice.stop();
      await carol.stop();
      await server.stop();
    },
  };
}

/** B approves the pending offer of `ceremonyId` with its card and PIN. */
export async function bobApproves(world: World, ceremonyId: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (
    !world.bob.engine.offers().some((o) => o.ceremonyId === ceremonyId && o.phase === 'pending')
  ) {
    if (Date.now() > deadline) throw new Error('B never got the offer');
    await new Promise((r) => setTimeout(r, 50));
  }
  const result = await world.bob.engine.approve(shownRef(world.bob.engine, ceremonyId), {
    kind: 'typed',
    read: async () => asciiBytes(PIN),
  });
  return result.kind;
}
