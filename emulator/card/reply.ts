/**
 * How command handlers answer: a {@link Reply} for success, a thrown {@link SwError} for any
 * refusal. The card's dispatcher turns both into an R-APDU and never lets anything else escape.
 * @module
 */
import { SW } from '../../shared/card/status-words';

/** Data and status word a handler returns. */
export type Reply = { readonly data: Uint8Array; readonly sw: number };

const EMPTY = new Uint8Array(0);

/** A successful reply (9000 unless another success word is given). */
export function reply(data: Uint8Array = EMPTY, sw: number = SW.OK): Reply {
  return { data, sw };
}

/** A refusal with a status word; thrown by handlers, caught by the dispatcher. */
export class SwError extends Error {
  override readonly name = 'SwError';
  constructor(
    /** The status word to answer with. */
    readonly sw: number,
    /** Why (for logs and tests; never sent to the reader). */
    readonly reason: string = '',
  ) {
    super(`${sw.toString(16).toUpperCase().padStart(4, '0')} ${reason}`);
  }
}

/** Throws {@link SwError} with `sw` unless `condition` holds. */
export function check(condition: boolean, sw: number, reason = ''): asserts condition {
  if (!condition) throw new SwError(sw, reason);
}
