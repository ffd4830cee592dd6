/**
 * The end-to-end world: emulated cards prepared as their owners would (target initialized for
 * n-of-m PKA with a release signing key; custodian cards with their own PIN and PKA key), an
 * emulator process serving a card in a vpcd reader (and taking it out again, as a person would),
 * and in-process custodian engines on the real connector, with every frame they send recorded.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuditLog } from '../../../core/audit/audit-log';
import { ApduChannel } from '../../../core/card/apdu-channel';
import type { CardTransport } from '../../../core/card/transport';
import { createCustodianEngine } from '../../../core/custodian/engine';
import type { EngineAuth, EngineEvent } from '../../../core/custodian/engine-types';
import type { Pcsc } from '../../../core/pcsc/pcsc-adapter';
import { createWsConnector, type WsConnector } from '../../../core/net/ws-transport';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import type { TestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { asciiBytes } from '../../../shared/codec/bytes';
import { anchorFromCvc } from '../../../shared/cvc/chain';
import { unwrap } from '../../../shared/result';
import { ALGO, PREFIX } from '../../../shared/sc-hsm/constants';
import { objectFid, updateBinaryCommands } from '../../../shared/sc-hsm/files';
import { generateEcKeyCommand } from '../../../shared/sc-hsm/keygen';
import { encodePrkd } from '../../../shared/sc-hsm/prkd';
import type { VpcdSlot } from '../helpers/pcscd';
import { isCardPresent, lockSlot, nextEvent } from '../helpers/virtual-card-harness';
import { BIN, spawnNode, type Child } from './processes';

export const SO_PIN = '3537363231383830';
/** Label of the release signing key on the target. */
export const SIGNER_LABEL = 'release-signer';

/** A custodian card with PIN `pin` (3 tries); with `key` also its PKA key and `.pka`. */
export async function custodianCard(ca: TestCa, serial: number, pin: string) {
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial }));
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(pin), retries: 3 });
  await t.close('reset');
  return card;
}

/** Adds the custodian's PKA key (docs/card-reference.md §6.2) and returns its id, CHR and `.pka`. */
export async function addPkaKey(card: EmulatedSmartCardHsm, pin: string, label: string) {
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.verifyPin(asciiBytes(pin));
  const key = await hsm.generateCustodianKey({ label });
  const pka = await hsm.exportPka(key.keyId);
  await t.close('reset');
  return { keyId: key.keyId, chr: key.chr, pka };
}

/**
 * The target as its administrator prepared it before handing it to the server: initialized for
 * n-of-m PKA (docs/card-reference.md §6.3) with a user PIN, and a P-256 release key that signs hashes
 * (`70`, docs/card-reference.md §8.3) labelled {@link SIGNER_LABEL}. After this only a quorum unlocks it.
 */
export async function preparedTarget(ca: TestCa, serial: number, m: number, n: number) {
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial }));
  const t = createInProcessTransport(card);
  const channel = new ApduChannel(t);
  const hsm = new SmartCardHsm(channel);
  const userPin = asciiBytes('73914682');
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: userPin.slice(), retries: 3, pka: { m, n } });
  await hsm.verifyPin(userPin);
  const gen = unwrap(
    generateEcKeyCommand({
      keyId: 1,
      curve: 'secp256r1',
      chr: asciiBytes('UTRELEASE0001'),
      algorithms: [ALGO.ECDSA_PREHASHED],
    }),
  );
  const r = await channel.send(gen);
  if (r.sw !== 0x9000) throw new Error(`key generation: SW ${r.sw.toString(16)}`);
  const prkd = encodePrkd({ label: SIGNER_LABEL, id: Uint8Array.of(1), size: 256 });
  for (const c of unwrap(updateBinaryCommands(objectFid(PREFIX.PRKD, 1), prkd))) {
    const w = await channel.send(c);
    if (w.sw !== 0x9000) throw new Error(`PRKD: SW ${w.sw.toString(16)}`);
  }
  await t.close('reset');
  return card;
}

/** A card served by `sc-hsm-emulator serve` in a vpcd slot. */
export type SlotCard = { readonly child: Child; readonly slot: VpcdSlot; remove(): Promise<void> };

/**
 * Inserts the card of `stateFile` into `slot` with the real emulator process and waits until
 * pcscd reports it; `remove()` stops the process (SIGTERM: the card leaves the reader) and
 * waits until pcscd reports the removal. Holds the harness's slot lock meanwhile.
 */
export async function serveInSlot(
  pcsc: Pcsc,
  stateFile: string,
  slot: VpcdSlot,
): Promise<SlotCard> {
  const release = await lockSlot(slot.port, 20_000);
  let child: Child | undefined;
  try {
    if (isCardPresent(pcsc, slot.reader)) {
      await nextEvent(
        pcsc,
        (e) => e.type === 'card-removed' && e.reader === slot.reader,
        10_000,
        `free ${slot.reader}`,
      );
    }
    const inserted = nextEvent(
      pcsc,
      (e) => e.type === 'card-inserted' && e.reader === slot.reader,
      20_000,
      `insert into ${slot.reader}`,
    );
    child = spawnNode(`emulator ${slot.port}`, BIN.emulator, [
      'serve',
      '--state',
      stateFile,
      '--vpcd',
      `127.0.0.1:${slot.port}`,
    ]);
    const c = child;
    await Promise.race([
      inserted,
      c.exited.then((code) => {
        throw new Error(`emulator exited (${code}) before insertion: ${c.all()}`);
      }),
    ]);
  } catch (e) {
    await child?.stop('SIGTERM', 5000);
    release();
    throw e;
  }
  const c = child;
  let removed: Promise<void> | undefined;
  return {
    child: c,
    slot,
    remove: () =>
      (removed ??= (async () => {
        try {
          const gone = isCardPresent(pcsc, slot.reader)
            ? nextEvent(
                pcsc,
                (e) => e.type === 'card-removed' && e.reader === slot.reader,
                10_000,
                `remove from ${slot.reader}`,
              )
            : undefined;
          await c.stop('SIGTERM', 5000);
          await gone?.catch(() => undefined);
        } finally {
          release();
        }
      })()),
  };
}

/** A connector that records every frame the client sends. */
export function recordingConnector(inner: WsConnector, sent: string[]): WsConnector {
  return (url, events) => {
    const c = inner(url, events);
    return {
      send: (text) => {
        sent.push(text);
        c.send(text);
      },
      close: (code, reason) => c.close(code, reason),
      terminate: () => c.terminate(),
    };
  };
}

/** A PIN source typing `pin`, counting the prompts. */
export function typed(pin: string) {
  let asked = 0;
  return {
    get asked() {
      return asked;
    },
    source: {
      kind: 'typed' as const,
      read: async () => {
        asked += 1;
        return asciiBytes(pin);
      },
    },
  };
}

/** An in-process custodian: the real engine and connector, frames and events recorded. */
export function startCustodian(opts: {
  name: string;
  url: string;
  fingerprint?: string;
  auth: EngineAuth;
  ca: TestCa;
  key: { keyId: number; chr: string };
  openCard: () => Promise<CardTransport>;
  backoff?: { initialMs: number; maxMs: number };
}) {
  const sent: string[] = [];
  const events: EngineEvent[] = [];
  const auditPath = join(mkdtempSync(join(tmpdir(), `e2e-${opts.name}-`)), 'audit.jsonl');
  const audit = openAuditLog(auditPath);
  const connector = recordingConnector(
    createWsConnector(
      opts.fingerprint ? { pin: { kind: 'fingerprint', sha256: opts.fingerprint } } : {},
    ),
    sent,
  );
  const engine = createCustodianEngine({
    url: opts.url,
    connector,
    auth: opts.auth,
    anchors: [unwrap(anchorFromCvc(opts.ca.root.cvc, 'e2e test root'))],
    ownKey: opts.key,
    openCard: opts.openCard,
    audit,
    backoff: opts.backoff ?? { initialMs: 100, maxMs: 1000 },
    client: { name: `e2e ${opts.name}`, version: '0.1.0' },
  });
  engine.on((e) => void events.push(e));
  engine.start();
  const next = async (pred: (e: EngineEvent) => boolean, what: string, ms = 20_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`${opts.name}: no ${what} within ${ms} ms (${events.map((e) => e.type)})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { name: opts.name, engine, events, sent, audit, auditPath, next };
}
export type Custodian = ReturnType<typeof startCustodian>;
