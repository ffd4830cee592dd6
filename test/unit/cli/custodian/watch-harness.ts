/**
 * `custodian watch` driven in-process with live output: an enrolled custodian home (config,
 * credential, emulated card with a PKA key), a scripted server, and helpers to wait for text.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { defaultDeps } from '../../../../cli/context';
import { reportError } from '../../../../cli/errors';
import {
  registerCustodianCommands,
  type CustodianCommandDeps,
} from '../../../../cli/custodian/index';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import {
  ensureHome,
  saveCredential,
  saveCustodianConfig,
} from '../../../../core/config/custodian-config';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { EmulatedSmartCardHsm } from '../../../../emulator/card/sc-hsm-card';
import { createDeviceState, loadState, saveState } from '../../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../../emulator/transport/in-process';
import { asciiBytes } from '../../../../shared/codec/bytes';
import type { WsConnector } from '../../../../core/net/ws-transport';
import type { CardTransport } from '../../../../core/card/transport';
import { PIN, SO_PIN, testCa } from '../../../integration/custodian/harness';

/** SIGN commands (INS 68) each emulator file received through the CLI, by file. */
export const signsSent = new Map<string, number>();

/** Opens an emulator state file as the CLI does, counting the SIGN commands it receives. */
export function openEmulator(file: string): Promise<CardTransport> {
  const card = new EmulatedSmartCardHsm(loadState(file), { onChange: (s) => saveState(file, s) });
  const inner = createInProcessTransport(card);
  return Promise.resolve({
    get atr() {
      return inner.atr;
    },
    transmit: async (apdu: Uint8Array) => {
      if (apdu[1] === 0x68) signsSent.set(file, (signsSent.get(file) ?? 0) + 1);
      return inner.transmit(apdu);
    },
    transaction: (fn) => inner.transaction(fn),
    close: (d) => inner.close(d),
    reset: () => inner.reset(),
  });
}

/** An enrolled custodian home for `serverUrl`: card with PIN and one PKA key, test root trusted. */
export async function enrolledHome(serverUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cust-watch-'));
  const ca = testCa();
  const cardFile = join(dir, 'card.json');
  saveState(cardFile, createDeviceState(ca, { serial: 556 }));
  const t = await openEmulator(cardFile);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3 });
  await hsm.verifyPin(asciiBytes(PIN));
  const key = await hsm.generateCustodianKey({ label: 'watch test' });
  await t.close('reset');
  const root = join(dir, 'root.cvc');
  writeFileSync(root, ca.root.cvc);
  const home = join(dir, 'home');
  ensureHome(home);
  saveCredential(home, 'S'.repeat(43));
  const saved = saveCustodianConfig(home, {
    version: 1,
    trustAnchors: [root],
    server: { url: serverUrl },
    custodianId: 'cust-9',
    keyId: key.keyId,
    keyChr: key.chr,
    emulator: cardFile,
  });
  if (!saved.ok) throw new Error(saved.error.message);
  return { dir, home, cardFile, key: { keyId: key.keyId, chr: key.chr } };
}

/** A terminal-like input: a stream that claims to be a TTY (raw mode is a no-op). */
export function ttyInput(): PassThrough & { isTTY: boolean; setRawMode(raw: boolean): void } {
  return Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
}

/** Runs the CLI in-process; `out`/`err` grow while it runs. */
export function startCli(
  argv: string[],
  home: string,
  input: NodeJS.ReadableStream & { isTTY?: boolean },
  connector?: WsConnector,
) {
  const io = { out: '', err: '' };
  const sink = {
    out: (t: string) => void (io.out += t),
    err: (t: string) => void (io.err += t),
  };
  const deps: CustodianCommandDeps = {
    ...defaultDeps(),
    openEmulator,
    io: sink,
    env: { CUSTODIAN_HOME: home },
    input,
    ...(connector ? { connector } : {}),
  };
  const program = new Command('custodian')
    .exitOverride()
    .configureOutput({ writeOut: sink.out, writeErr: sink.err });
  registerCustodianCommands(program, deps);
  const done = program.parseAsync(argv, { from: 'user' }).then(
    () => 0,
    (e: unknown) => reportError(e, sink),
  );
  return { io, done };
}

/** Resolves once `pred` holds (polled; generous timeout for loaded machines). */
export async function until(pred: () => boolean, what: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
