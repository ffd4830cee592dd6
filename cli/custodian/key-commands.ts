/**
 * `custodian key create` and `custodian key export`: the custodian's PKA key on the
 * custodian's own card (docs/card-reference.md §6.2: brainpoolP256r1, ECDSA-SHA-256 only, unique CHR) and
 * its `.pka` file for the target's administrator.
 * @module
 */
import { existsSync, writeFileSync } from 'node:fs';
import { ApduChannel } from '../../core/card/apdu-channel';
import {
  custodianHome,
  loadCustodianConfig,
  saveCustodianConfig,
  type CustodianConfig,
} from '../../core/config/custodian-config';
import { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { UsageError } from '../errors';
import { verifyCardPin, type PinOptions } from './card-pin';
import { cardOpener, type CardChoice, type CustodianCommandDeps } from './deps';
import { createLineReader } from './pin-input';

/** Options of `key create`. */
export type KeyCreateOptions = CardChoice & PinOptions & { readonly label?: string };

/** Runs `key create`. */
export async function keyCreate(opts: KeyCreateOptions, deps: CustodianCommandDeps): Promise<void> {
  const label = opts.label ?? 'PKA custodian key';
  if (label.length === 0 || label.length > 64 || /[\p{Cc}\p{Cf}]/u.test(label)) {
    throw new UsageError('the label must be 1–64 printable characters');
  }
  const transport = await cardOpener(opts, deps)();
  const lines = createLineReader(deps.input ?? process.stdin, deps.io);
  try {
    const hsm = new SmartCardHsm(new ApduChannel(transport));
    await hsm.select();
    await verifyCardPin(hsm, opts, lines, deps.io);
    const key = await hsm.generateCustodianKey({ label });
    deps.io.out(
      `created PKA key ${key.keyId}: CHR ${key.chr}, brainpoolP256r1, ECDSA-SHA-256 only, label "${label}"\n`,
    );
    rememberKey(deps, key.keyId, key.chr, opts);
    deps.io.out(`next: custodian key export --key-id ${key.keyId} --out me.pka\n`);
  } finally {
    lines.close();
    await transport.close('reset');
  }
}

/** Stores the key id (and card choice) in the config so `enroll` and `watch` find it. */
function rememberKey(
  deps: CustodianCommandDeps,
  keyId: number,
  keyChr: string,
  choice: CardChoice,
): void {
  const home = custodianHome(deps.env ?? process.env);
  const loaded = loadCustodianConfig(home);
  if (!loaded.ok && loaded.error.code !== 'not-found') {
    deps.io.err(`custodian: key id not saved: ${loaded.error.message}\n`);
    return;
  }
  const base: CustodianConfig = loaded.ok ? loaded.value : { version: 1, trustAnchors: [] };
  const next: CustodianConfig = {
    ...base,
    keyId,
    keyChr,
    ...(choice.reader !== undefined ? { reader: choice.reader } : {}),
    ...(choice.emulator !== undefined ? { emulator: choice.emulator } : {}),
  };
  const saved = saveCustodianConfig(home, next);
  if (!saved.ok) deps.io.err(`custodian: key id not saved: ${saved.error.message}\n`);
}

/** Options of `key export`. */
export type KeyExportOptions = CardChoice & {
  readonly keyId: string;
  readonly out: string;
  readonly force?: boolean;
};

/** Parses a key id option (1–255). */
export function parseKeyId(text: string): number {
  const n = Number(text);
  if (!/^\d{1,3}$/.test(text) || n < 1 || n > 255)
    throw new UsageError(`key id must be 1–255, got "${text}"`);
  return n;
}

/** Runs `key export` (no PIN needed: request and certificates are public objects). */
export async function keyExport(opts: KeyExportOptions, deps: CustodianCommandDeps): Promise<void> {
  const keyId = parseKeyId(opts.keyId);
  if (existsSync(opts.out) && !opts.force)
    throw new UsageError(`${opts.out} exists; use --force to overwrite`);
  const transport = await cardOpener(opts, deps)();
  try {
    const hsm = new SmartCardHsm(new ApduChannel(transport));
    await hsm.select();
    const key = (await hsm.listKeys()).find((k) => k.id === keyId);
    if (!key) throw new UsageError(`no key ${keyId} on this card`);
    if (!key.hasRequest)
      throw new UsageError(`key ${keyId} has no authenticated request; it cannot be used for PKA`);
    const pka = await hsm.exportPka(keyId);
    writeFileSync(opts.out, pka, { mode: 0o644 });
    deps.io.out(`wrote ${opts.out} (${pka.length} bytes): key ${keyId}, CHR ${key.chr ?? '?'}\n`);
  } finally {
    await transport.close('reset');
  }
}
