/**
 * Turning failures into one clear line and an exit code: 2 for problems the user can fix
 * (arguments, pcscd, reader, card), 1 for anything else.
 * @module
 */
import { CardStatusError } from '../shared/card/status-words';
import { CardTransportError } from '../core/card/transport';
import type { CliIo } from './context';
import { messageOf } from '../shared/error-message';

/** Exit codes of the CLI. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** A mistake in how the CLI was called or set up; reported as one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What to do about a transport failure, appended to its message. */
const ADVICE: Partial<Record<CardTransportError['code'], string>> = {
  'no-service': 'start it with `sudo systemctl start pcscd` (or run `pcscd`)',
  'no-native-module': 'install libpcsclite-dev (apt) and run `npm ci` again',
  'no-reader': 'connect a reader; `custodian readers` lists what PC/SC sees',
  'no-card': 'insert the SmartCard-HSM; `custodian readers` shows which readers hold a card',
  'sharing-violation': 'another program holds the card; close it and retry',
  'not-sc-hsm': 'this card is not a SmartCard-HSM / Nitrokey HSM',
};

/** Writes one line about `e` to stderr and returns the exit code. */
export function reportError(e: unknown, io: CliIo): number {
  if (e instanceof UsageError) {
    io.err(`custodian: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof CardTransportError) {
    const advice = ADVICE[e.code];
    io.err(
      `custodian: ${e.message}${advice && !e.message.includes(advice) ? ` — ${advice}` : ''}\n`,
    );
    return EXIT.USAGE;
  }
  if (e instanceof CardStatusError) {
    io.err(`custodian: card refused: ${e.message}\n`);
    return EXIT.FAILURE;
  }
  const message = messageOf(e);
  io.err(`custodian: ${message}\n`);
  return EXIT.FAILURE;
}
