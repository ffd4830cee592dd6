/**
 * Demo steps up to a fully registered target: the TEST PKI, the cards, the server on loopback,
 * PKA initialization 3-of-5 (docs/card-reference.md §6.3) and the enrollment of five custodians with key
 * attestation (docs/card-reference.md §6.5), the card's own PKA status printed after each change.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTestCa, TEST_ROOT_CHR, type TestCa } from '../emulator/ca/test-ca';
import { startServer, type RunningServer } from '../server/app';
import { parseConfig } from '../server/config';
import { anchorFromCvc, type TrustAnchor } from '../shared/cvc/chain';
import { parsePkaFile } from '../shared/pka/pka-file';
import { unwrap } from '../shared/result';
import { adminCall, cardStatus } from './admin';
import { is, startCustodian, type Frame } from './custodian';
import type { Hardware } from './hardware';
import { formatPka, type Reporter } from './report';

/** The target's name in the server config. */
export const TARGET = 'root-ca-hsm';
/** Quorum of the demo: n of m. */
export const QUORUM = { m: 5, n: 3 } as const;
/** Unlock window after quorum: exactly the ten signatures the demo makes, at most 120 s. */
export const UNLOCK = { maxSeconds: 120, maxSignatures: 10 } as const;

/** Shared state of a demo run. */
export type DemoContext = {
  readonly r: Reporter;
  readonly dir: string;
  readonly frames: Frame[];
  readonly serverLog: string[];
  ca?: TestCa;
  anchor?: TrustAnchor;
  hw?: Hardware;
  server?: RunningServer;
  /** Session credentials by custodian name. */
  readonly credentials: Map<string, { custodianId: string; credential: string }>;
};

/** Step: the TEST PKI (said loudly: nothing here is a genuine device). */
export function testPki(ctx: DemoContext): { ca: TestCa; anchor: TrustAnchor; anchorFile: string } {
  ctx.r.step(
    'Create a TEST PKI (root + DICA) for the emulated cards',
    'PKA registration only accepts keys generated inside a device whose chain leads to a trusted root (docs/card-reference.md §5, §6.5)',
  );
  const ca = generateTestCa();
  const anchor = unwrap(anchorFromCvc(ca.root.cvc, 'demo TEST root'));
  const anchorFile = join(ctx.dir, 'test-root.cvc');
  writeFileSync(anchorFile, ca.root.cvc);
  ctx.r.warn(
    `TRUST ANCHOR IS A TEST ROOT: ${TEST_ROOT_CHR} (generated just now, private key in memory)`,
  );
  ctx.r.warn('It is NOT the production root DESRCACC100001: no real SmartCard-HSM chains to it,');
  ctx.r.warn(
    'and a real deployment must never trust it. Server and custodians trust it for this run only.',
  );
  ctx.ca = ca;
  ctx.anchor = anchor;
  return { ca, anchor, anchorFile };
}

/** Step header: the cards (created by the hardware provider right after). */
export function cardsStep(ctx: DemoContext): void {
  ctx.r.step(
    'Prepare one target HSM and five custodian cards (emulated)',
    'each custodian holds an ECDSA key generated on their own card, protected by a PIN only they know (docs/card-reference.md §6.2)',
  );
}

/** The cards as prepared. */
export function describeCards(ctx: DemoContext, hw: Hardware): void {
  ctx.r.info(`target device id ${hw.targetDeviceId} (factory fresh; ${hw.targetVia})`);
  for (const c of hw.custodians) {
    ctx.r.info(
      `${c.name.padEnd(6)} card ${c.deviceId}, PKA key #${c.keyId} CHR ${c.keyChr} (${c.via})`,
    );
  }
}

/** Step: the server on loopback (the benchmarks pass a larger unlock window). */
export async function serverUp(
  ctx: DemoContext,
  hw: Hardware,
  anchorFile: string,
  unlock: { readonly maxSeconds: number; readonly maxSignatures: number } = UNLOCK,
  pkcs11Socket?: string,
): Promise<RunningServer> {
  ctx.r.step(
    'Start the management server on 127.0.0.1',
    'the server alone drives the target; custodians connect to it over WebSocket and never touch the target (docs/card-reference.md §14)',
  );
  const config = unwrap(
    parseConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(ctx.dir, 'server-data'),
        targets: [{ name: TARGET, label: 'Release signing HSM', emulatorState: 'in-process' }],
        trustAnchors: [anchorFile],
        unlock,
        ceremonyDefaults: { expiresInSeconds: 600 },
        ...(pkcs11Socket === undefined ? {} : { pkcs11: { socket: pkcs11Socket } }),
      },
      ctx.dir,
    ),
  );
  const server = await startServer(config, {
    openerFor: () => hw.openTarget,
    log: (line) => void ctx.serverLog.push(line),
  });
  ctx.server = server;
  ctx.r.info(
    `listening on ${server.url} (plain ws is accepted on loopback only), data in ${config.dataDir}`,
  );
  ctx.r.info(
    `unlock window after quorum: ${unlock.maxSignatures} signatures or ${unlock.maxSeconds} s, whichever ends first`,
  );
  return server;
}

/** Step: initialize the target for 3-of-5 PKA through the admin API. */
export async function initializeTarget(ctx: DemoContext, server: RunningServer): Promise<void> {
  ctx.r.step(
    `Initialize the target for ${QUORUM.n}-of-${QUORUM.m} public key authentication`,
    'INITIALIZE DEVICE with tag 93 and NO user PIN: afterwards only a quorum of custodians can unlock it (docs/card-reference.md §3.4, §6.3)',
  );
  const r = await adminCall<{ soPin?: string }>(
    server,
    'POST',
    `/api/targets/${TARGET}/initialize`,
    QUORUM,
  );
  // The SO-PIN is returned once; an operator stores it offline. The demo does not print it.
  ctx.r.info(
    r.soPin
      ? 'SO-PIN generated by the server and returned once (not printed: an operator keeps it offline)'
      : 'no SO-PIN returned',
  );
  ctx.r.info(`card PKA status: ${formatPka(await cardStatus(server, TARGET))}`);
}

/** Step: enroll all custodians (token → `.pka` → attestation check → registration at the target). */
export async function enrollAll(
  ctx: DemoContext,
  server: RunningServer,
  hw: Hardware,
): Promise<void> {
  ctx.r.step(
    'Enroll the five custodians',
    'the server checks each .pka chain (TEST root → DICA → custodian device → key) before the target registers the key (docs/card-reference.md §6.5)',
  );
  for (const c of hw.custodians) {
    const invite = await adminCall<{ token: string }>(server, 'POST', '/api/enrollments', {
      target: TARGET,
      name: c.name,
    });
    const file = unwrap(parsePkaFile(c.pka));
    const client = startCustodian({
      name: c.name,
      url: server.wsUrl,
      auth: { kind: 'enroll', token: invite.token, pka: c.pka, keyId: c.keyId },
      anchors: [ctx.anchor!],
      keyId: c.keyId,
      keyChr: c.keyChr,
      openCard: c.openCard,
      frames: ctx.frames,
      dir: ctx.dir,
    });
    try {
      const e = await client.next(is.enrolled, 'enrollment welcome');
      ctx.credentials.set(c.name, { custodianId: e.custodianId, credential: e.credential });
    } finally {
      client.stop();
    }
    const chain = `${file.dica.body.car ?? '?'} → ${file.dica.body.chr} → ${file.device.body.chr} → key ${c.keyChr}`;
    ctx.r.ok(`${c.name.padEnd(6)} attested ${chain}`);
    ctx.r.info(`       card PKA status: ${formatPka(await cardStatus(server, TARGET))}`);
  }
}
