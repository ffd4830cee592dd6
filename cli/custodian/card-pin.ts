/**
 * The PIN for commands that use the custodian card directly (`key create`): status first,
 * refuse a blocked PIN, ask before the last try, present the PIN once (never retried).
 * @module
 */
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import type { CliIo } from '../context';
import { UsageError } from '../errors';
import { checkPinFile, readPinFromFile } from './pin-file';
import { readPinFromFd, type LineReader } from './pin-input';

/** Where the PIN comes from and whether the last try is pre-confirmed. */
export type PinOptions = {
  readonly pinFd?: number;
  readonly pinFile?: string;
  readonly yesLastTry?: boolean;
};

/** Refuses two PIN sources at once and a `--pin-file` that is not private (before any card use). */
export function checkPinOptions(opts: PinOptions & { readonly pinpad?: boolean }): void {
  const sources = [
    opts.pinFd !== undefined && '--pin-fd',
    opts.pinFile !== undefined && '--pin-file',
    opts.pinpad === true && '--pinpad',
  ].filter((s): s is string => s !== false);
  if (sources.length > 1) throw new UsageError(`use only one of ${sources.join(', ')}`);
  if (opts.pinFile !== undefined) checkPinFile(opts.pinFile);
}

/** Reads the PIN from `--pin-fd`, `--pin-file` or the terminal (no echo). */
export async function readPin(
  opts: PinOptions,
  lines: LineReader,
  prompt: string,
): Promise<Uint8Array | undefined> {
  if (opts.pinFd !== undefined) return readPinFromFd(opts.pinFd);
  if (opts.pinFile !== undefined) return readPinFromFile(opts.pinFile);
  return lines.secret(prompt);
}

/** Asks the custodian to confirm the last PIN try; true when confirmed. */
export async function confirmLastTry(
  opts: PinOptions,
  lines: LineReader,
  io: CliIo,
): Promise<boolean> {
  if (opts.yesLastTry) return true;
  io.err('Only ONE PIN try is left: a wrong PIN now blocks your card. Type YES to continue: ');
  return (await lines.next())?.trim() === 'YES';
}

/** Verifies the user PIN on `hsm` (selected) or throws a UsageError saying why not. */
export async function verifyCardPin(
  hsm: SmartCardHsm,
  opts: PinOptions,
  lines: LineReader,
  io: CliIo,
): Promise<void> {
  const status = await hsm.pinStatus();
  if (status.state === 'verified') return;
  if (status.state === 'blocked')
    throw new UsageError('the card PIN is blocked; unblock it with the SO-PIN first');
  if (status.state !== 'not-verified')
    throw new UsageError(`the card PIN cannot be used (${status.state})`);
  const retries = status.retries ?? 0;
  if (retries === 1 && !(await confirmLastTry(opts, lines, io))) {
    throw new UsageError('not confirmed; the PIN was not tried');
  }
  const pin = await readPin(opts, lines, `PIN (${retries} tries left): `);
  if (pin === undefined) throw new UsageError('no PIN entered');
  if (pin.length < 6 || pin.length > 16) {
    pin.fill(0);
    throw new UsageError('the PIN must be 6 to 16 characters; nothing was sent to the card');
  }
  const result = await hsm.verifyPin(pin); // wipes `pin`
  if (result.state === 'verified') return;
  if (result.state === 'blocked') throw new UsageError('wrong PIN — the PIN is now BLOCKED');
  throw new UsageError(`wrong PIN — ${result.retries ?? 0} tries left (not retried)`);
}
