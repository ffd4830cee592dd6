/**
 * Test world for the management server: emulated target and custodian cards on one test PKI,
 * a server started in-process on loopback (plain ws), and scripted custodians that speak the
 * real protocol module and check offers with the real offer check and firewall.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ApduChannel } from '../../../core/card/apdu-channel';
import type { CardTransport } from '../../../core/card/transport';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { generateTestCa, type TestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { decodeCommandApdu, encodeResponseApdu } from '../../../shared/codec/apdu';
import { asciiBytes, fromHex, toHex } from '../../../shared/codec/bytes';
import { anchorFromCvc } from '../../../shared/cvc/chain';
import { checkOffer } from '../../../shared/policy/offer-check';
import {
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  encodeClientMessage,
  parseServerMessage,
  type ClientMessage,
  type OfferMessage,
  type ServerMessage,
} from '../../../shared/protocol';
import { unwrap } from '../../../shared/result';
import { startServer, type AppDeps, type RunningServer } from '../../../server/app';
import { parseConfig, type ServerConfig } from '../../../server/config';

export const PIN = '648219';
export const SO_PIN = '3537363231383830';

let sharedCa: TestCa | undefined;
/** One test PKI per test file. */
export function testCa(): TestCa {
  sharedCa ??= generateTestCa();
  return sharedCa;
}

let serial = 500 + Math.floor(Math.random() * 1000);

/** A custodian's card with one PKA key and its exported .pka. */
export type CustodianCard = {
  readonly card: EmulatedSmartCardHsm;
  readonly keyId: number;
  readonly chr: string;
  readonly pka: Uint8Array;
};

/** Initializes a custodian card (PIN 648219) and generates its PKA key. */
export async function custodianCard(ca: TestCa = testCa()): Promise<CustodianCard> {
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial: serial++ }));
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3 });
  await hsm.verifyPin(asciiBytes(PIN));
  const key = await hsm.generateCustodianKey({ label: 'custodian key' });
  const pka = await hsm.exportPka(key.keyId);
  await t.close('reset');
  return { card, keyId: key.keyId, chr: key.chr, pka };
}

/**
 * A target card initialized for n-of-m PKA (with a user PIN so the test can create signing
 * keys first: key 1 "signer" on brainpoolP256r1, key 2 "signer-p256" on secp256r1).
 */
export async function targetCard(
  m: number,
  n: number,
  ca: TestCa = testCa(),
): Promise<EmulatedSmartCardHsm> {
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial: serial++ }));
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3, pka: { m, n } });
  await hsm.verifyPin(asciiBytes(PIN));
  // Ids 1 and 2: the first free ones (docs/card-reference.md §7); both may only sign hashes (`70`).
  await hsm.generateSigningKey({ label: 'signer', curve: 'brainpoolP256r1' });
  await hsm.generateSigningKey({ label: 'signer-p256', curve: 'secp256r1' });
  await t.close('reset');
  return card;
}

/** A fresh data directory with the test root as trust anchor file. */
export function dataDir(ca: TestCa = testCa()): { dir: string; anchor: string } {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-server-'));
  const anchor = join(dir, 'test-root.cvc');
  writeFileSync(anchor, ca.root.cvc);
  unwrap(anchorFromCvc(ca.root.cvc, 'test root'));
  return { dir, anchor };
}

/** Counts how often the server opened the target. */
export type TargetHandle = { card: EmulatedSmartCardHsm; opens: number; fail: boolean };

/** Starts a server on 127.0.0.1 (random port, plain ws) for one target "t1". */
export async function startTestServer(
  target: TargetHandle,
  dir: { dir: string; anchor: string },
  overrides: Partial<
    Pick<ServerConfig, 'unlock' | 'ceremonyDefaults' | 'trustedProxies' | 'connections' | 'pkcs11'>
  > = {},
  deps: AppDeps = {},
): Promise<RunningServer> {
  const config = unwrap(
    parseConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(dir.dir, 'data'),
        targets: [{ name: 't1', label: 'Test target', emulatorState: 'in-process' }],
        trustAnchors: [dir.anchor],
        unlock: overrides.unlock ?? { maxSeconds: 60, maxSignatures: 100 },
        ceremonyDefaults: overrides.ceremonyDefaults ?? { expiresInSeconds: 600 },
        ...(overrides.trustedProxies ? { trustedProxies: overrides.trustedProxies } : {}),
        ...(overrides.connections ? { connections: overrides.connections } : {}),
        ...(overrides.pkcs11 ? { pkcs11: overrides.pkcs11 } : {}),
      },
      dir.dir,
    ),
  );
  const opener = async (): Promise<CardTransport> => {
    if (target.fail) throw new Error('reader gone');
    target.opens++;
    return createInProcessTransport(target.card);
  };
  return startServer(config, { openerFor: () => opener, log: () => undefined, ...deps });
}

/** Admin API call. */
export async function adminApi<T = Record<string, unknown>>(
  server: RunningServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A scripted custodian client over the real protocol module. */
export class ScriptedCustodian {
  readonly messages: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];
  private ws!: WebSocket;
  custodianId: string | undefined;
  credential: string | undefined;

  constructor(
    readonly server: RunningServer,
    readonly cust: CustodianCard,
    readonly anchorCa: TestCa = testCa(),
  ) {}

  /** Opens the connection and sends hello (enroll with `token`, else session). */
  async connect(token?: string): Promise<void> {
    this.closed = undefined;
    this.ws = new WebSocket(this.server.wsUrl, PROTOCOL_NAME);
    this.ws.on('message', (data) => {
      const m = parseServerMessage(data.toString());
      if (!m.ok) throw new Error(`server sent an invalid frame: ${m.error.message}`);
      if (m.value.type === 'welcome') {
        this.custodianId = m.value.custodianId;
        if (m.value.credential) this.credential = m.value.credential;
      }
      if (m.value.type === 'ping')
        this.send({ v: PROTOCOL_VERSION, type: 'pong', nonce: m.value.nonce });
      this.messages.push(m.value);
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    const auth =
      token !== undefined
        ? { kind: 'enroll' as const, token, pka: toHex(this.cust.pka), keyId: this.cust.keyId }
        : {
            kind: 'session' as const,
            custodianId: this.custodianId!,
            credential: this.credential!,
          };
    this.send({
      v: PROTOCOL_VERSION,
      type: 'hello',
      client: { name: 'scripted', version: '1.0.0' },
      auth,
    });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(msg: ClientMessage): void {
    this.ws.send(unwrap(encodeClientMessage(msg)));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** Waits for a message matching `pred` (searching from `from`), or rejects after `ms`. */
  async waitFor<T extends ServerMessage>(
    pred: (m: ServerMessage) => m is T,
    ms = 5000,
    from = 0,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.messages.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`timeout; got ${this.messages.map((m) => m.type).join(',')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async waitClosed(ms = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('not closed');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closed;
  }

  /** The latest offer of a ceremony (optionally newer than `notOfferId`). */
  offer(ceremonyId: string, notOfferId?: string): Promise<OfferMessage> {
    return this.waitFor(
      (m): m is OfferMessage =>
        m.type === 'offer' && m.ceremonyId === ceremonyId && m.offerId !== notOfferId,
    );
  }

  /** Runs the offer's script on the custodian card after the client-side offer check. */
  async runScript(offer: OfferMessage): Promise<string[]> {
    const anchor = unwrap(anchorFromCvc(this.anchorCa.root.cvc, 'test root'));
    const verdict = checkOffer(offer, {
      anchors: [anchor],
      now: new Date(),
      ownKey: { chr: this.cust.chr, keyId: this.cust.keyId },
      decidedOfferIds: new Set(),
    });
    if (!verdict.acceptable)
      throw new Error(`offer refused: ${verdict.issues.map((i) => i.message).join('; ')}`);
    const t = createInProcessTransport(this.cust.card);
    const hsm = new SmartCardHsm(new ApduChannel(t));
    await hsm.select();
    await hsm.verifyPin(asciiBytes(PIN));
    const channel = new ApduChannel(t);
    const out: string[] = [];
    for (const hex of offer.script.apdus) {
      const r = await channel.send(unwrap(decodeCommandApdu(fromHex(hex))));
      out.push(toHex(encodeResponseApdu(r)));
    }
    await t.close('reset');
    return out;
  }

  /** Approves an offer (runs the script) and sends the decision. */
  async approve(offer: OfferMessage): Promise<void> {
    const rapdus = await this.runScript(offer);
    this.send({
      v: PROTOCOL_VERSION,
      type: 'decision',
      ceremonyId: offer.ceremonyId,
      offerId: offer.offerId,
      decision: { kind: 'approve', results: rapdus.map((rapdu) => ({ rapdu })) },
    });
  }

  decline(offer: OfferMessage): void {
    this.send({
      v: PROTOCOL_VERSION,
      type: 'decision',
      ceremonyId: offer.ceremonyId,
      offerId: offer.offerId,
      decision: { kind: 'decline', reason: 'user-declined' },
    });
  }

  close(): void {
    this.ws.close(1000);
  }
}

/** Enrolls a custodian through the admin API and the WebSocket hello. */
export async function enroll(
  server: RunningServer,
  cust: CustodianCard,
  name: string,
): Promise<ScriptedCustodian> {
  const inv = await adminApi<{ token: string }>(server, 'POST', '/api/enrollments', {
    target: 't1',
    name,
  });
  if (inv.status !== 201) throw new Error(JSON.stringify(inv.body));
  const c = new ScriptedCustodian(server, cust);
  await c.connect(inv.body.token);
  await c.waitFor((m) => m.type === 'welcome');
  return c;
}
