/**
 * Fixtures of the hostile-server suites: one test PKI, a real custodian card (emulated, PIN
 * `48291375`, one PKA key), the REAL custodian engine connected to a hostile server, offers
 * built like a genuine server builds them (docs/protocol.md §5.2), and the checks every hostile
 * case ends with: refused, audited (and the chain verifies with `custodian audit verify`),
 * card state unchanged, no PIN in any frame the server received.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { main as custodianCli } from '../../../cli/main';
import { openAuditLog, type AuditLog } from '../../../core/audit/audit-log';
import { ApduChannel } from '../../../core/card/apdu-channel';
import type { CardTransport } from '../../../core/card/transport';
import { createCustodianEngine, type CustodianEngine } from '../../../core/custodian/engine';
import type { EngineEvent } from '../../../core/custodian/engine-types';
import { createWsConnector } from '../../../core/net/ws-transport';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { generateTestCa, type TestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState, stateToJson } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { encodeCommandApdu } from '../../../shared/codec/apdu';
import { asciiBytes, concatBytes, toHex } from '../../../shared/codec/bytes';
import { anchorFromCvc, type TrustAnchor } from '../../../shared/cvc/chain';
import type { OfferMessage } from '../../../shared/protocol/index';
import { unwrap } from '../../../shared/result';
import { signCommand } from '../../../shared/sc-hsm/sign';
import { isoSeconds, pinLeaks, type HostileServer } from '../helpers/hostile-server';

/** The custodian's PIN: eight digits, so a leak scan cannot hit it by chance in hex data. */
export const PIN = '48291375';
export const SO_PIN = '3537363231383830';

let ca: TestCa | undefined;
/** One test PKI per test file. */
export function testCa(): TestCa {
  ca ??= generateTestCa();
  return ca;
}

export function anchor(): TrustAnchor {
  return unwrap(anchorFromCvc(testCa().root.cvc, 'hostile-suite test root'));
}

/** A target device's identity (its EF 2F02 chain and CHR); no card needed on this side. */
export function targetIdentity(serial: number, from: TestCa = testCa()) {
  const s = createDeviceState(from, { serial });
  return { chain: s.identity.certificates, chr: s.identity.chr };
}
export type TargetIdentity = ReturnType<typeof targetIdentity>;

/** Initializes a fresh emulated custodian card (PIN, 3 tries) with one PKA key. */
export async function newCustodianCard(serial: number) {
  const card = new EmulatedSmartCardHsm(createDeviceState(testCa(), { serial }));
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3 });
  await hsm.verifyPin(asciiBytes(PIN));
  const key = await hsm.generateCustodianKey({ label: 'hostile-suite key' });
  const pka = await hsm.exportPka(key.keyId);
  await t.close('reset');
  return { card, keyId: key.keyId, chr: key.chr, pka };
}

/** A custodian card the engine opens in-process, with every APDU and open counted. */
export function observedCard(card: EmulatedSmartCardHsm) {
  const apdus: string[] = [];
  let opens = 0;
  const openCard = async (): Promise<CardTransport> => {
    opens += 1;
    const inner = createInProcessTransport(card);
    return {
      get atr() {
        return inner.atr;
      },
      transmit: (apdu) => {
        apdus.push(toHex(apdu));
        return inner.transmit(apdu);
      },
      transaction: (fn) => inner.transaction(fn),
      reset: () => inner.reset(),
      close: (d) => inner.close(d),
    };
  };
  return {
    openCard,
    apdus,
    get opens() {
      return opens;
    },
    /** Persistent state as JSON: PIN records and retry counters, keys, files, PKA table. */
    state: () => stateToJson(card.state),
  };
}

/** The real engine connected to `url`, its events collected, auditing to a fresh file. */
export function startEngine(opts: {
  url: string;
  openCard: () => Promise<CardTransport>;
  key: { keyId: number; chr: string };
  credential: string;
  custodianId: string;
}) {
  const auditPath = join(mkdtempSync(join(tmpdir(), 'hostile-audit-')), 'audit.jsonl');
  const audit: AuditLog = openAuditLog(auditPath);
  const events: EngineEvent[] = [];
  const engine: CustodianEngine = createCustodianEngine({
    url: opts.url,
    connector: createWsConnector(),
    auth: { kind: 'session', custodianId: opts.custodianId, credential: opts.credential },
    anchors: [anchor()],
    ownKey: { keyId: opts.key.keyId, chr: opts.key.chr },
    openCard: opts.openCard,
    audit,
    backoff: { initialMs: 50, maxMs: 200 },
    // One connection carries every attack of the suite, each refused and audited one by one:
    // the refusal-flood guard (its own tests: custodian/refusal-flood.test.ts) stays out of it.
    rejectionLimits: { auditLimit: 10_000, windowMs: 60_000, suspicious: 20_000 },
  });
  engine.on((e) => void events.push(e));
  engine.start();
  const next = async (pred: (e: EngineEvent) => boolean, what: string, ms = 10_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`engine: no ${what} within ${ms} ms (${events.map((e) => e.type)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { engine, events, audit, auditPath, next };
}

/** The PKA SIGN command for `CHR ‖ challenge` (docs/card-reference.md §6.6 step 4), as offer hex. */
export function signApdu(keyId: number, chr: Uint8Array, challenge: Uint8Array): string {
  return toHex(
    unwrap(encodeCommandApdu(unwrap(signCommand(keyId, 0x73, concatBytes(chr, challenge))))),
  );
}

let seq = 0;
/** A fresh, well-formed offer for `target` and `key` (new ids, new 8-byte challenge). */
export function offerFor(
  target: TargetIdentity,
  key: { keyId: number; chr: string },
  over: (challenge: Uint8Array) => Partial<OfferMessage> = () => ({}),
): OfferMessage {
  seq += 1;
  const challenge = crypto.getRandomValues(new Uint8Array(8));
  return {
    v: 1,
    type: 'offer',
    ceremonyId: `hcer-${seq}`,
    offerId: `hoff-${seq}`,
    target: {
      label: 'Issuing CA HSM',
      deviceId: new TextDecoder().decode(target.chr),
      chain: toHex(target.chain),
    },
    purpose: 'Quarterly CRL signing',
    requester: 'mallory@example.org',
    quorum: { n: 2, m: 3 },
    progress: { authenticated: 0, approvedBy: [] },
    expiresAt: isoSeconds(new Date(Date.now() + 10 * 60_000)),
    challenge: toHex(challenge),
    key,
    script: { apdus: [signApdu(key.keyId, target.chr, challenge)] },
    ...over(challenge),
  };
}

/** One parsed audit entry. */
export type AuditLine = { seq: number; kind: string; data: Record<string, unknown> };

/** The audit log's entries. */
export function auditLines(path: string): AuditLine[] {
  const text = readFileSync(path, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as AuditLine);
}

/** `custodian audit verify --file F` through the real CLI entry point; returns its output. */
export async function auditVerify(
  path: string,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await custodianCli(
    ['audit', 'verify', '--file', path],
    {},
    {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
    },
  );
  return { code, out, err };
}

/** Asserts the audit chain verifies, the PIN is not in it, and no frame carried the PIN. */
export async function expectCleanTrail(
  auditPath: string,
  server: HostileServer,
  pin = PIN,
): Promise<void> {
  const v = await auditVerify(auditPath);
  expect(v.err).toBe('');
  expect(v.code).toBe(0);
  expect(v.out).toMatch(/chain intact/);
  expect(readFileSync(auditPath, 'utf8')).not.toContain(pin);
  expect(server.received.length).toBeGreaterThan(0);
  expect(pinLeaks(server.received, pin)).toEqual([]);
}
