/**
 * The card step of an approval at the target and what it counted (issue 12 §2): MSE SET AT and
 * EXTERNAL AUTHENTICATE adjacent, a 9000 counts one, and the card's own status (`80 54`,
 * docs/card-reference.md §6.4) is read only where it decides something — when quorum is
 * expected, and whenever the answer is ambiguous — so the count recorded is never lower than
 * the card's.
 * @module
 */
import { CardTransportError } from '../../core/card/transport';
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { asciiBytes } from '../../shared/codec/bytes';
import { CardStatusError, swHex, SW } from '../../shared/card/status-words';

/** What the target's answer to one presented signature means for the count. */
export type Count = {
  readonly sw: number;
  /** Whether the card counted the authentication (from the 9000, or from its status). */
  readonly counted: boolean;
  /** The card's count after it. */
  readonly authenticated: number;
  readonly reason: string | undefined;
};

/**
 * MSE SET AT `A4 <key CHR>` then EXTERNAL AUTHENTICATE with plain r‖s, adjacent in the target's
 * queue (docs/card-reference.md §6.6 steps 1 and 6). Resolves with the SW of the step the
 * card refused, `9000`, or undefined when the answer could not be read as a status word.
 * Transport failures are thrown (the target service drops the connection: the card forgets).
 */
async function presentSignature(
  card: SmartCardHsm,
  keyChr: string,
  plain: Uint8Array,
): Promise<number | undefined> {
  try {
    await card.selectPkaKey(asciiBytes(keyChr));
    await card.externalAuthenticate(plain);
    return SW.OK;
  } catch (e) {
    if (e instanceof CardStatusError) return e.sw;
    if (e instanceof CardTransportError) throw e;
    return undefined;
  }
}

/** The card's own count; undefined when it cannot be read (transport failures are thrown). */
async function cardCount(card: SmartCardHsm): Promise<number | undefined> {
  try {
    return (await card.pkaStatus())?.authenticated;
  } catch (e) {
    if (e instanceof CardTransportError) throw e;
    return undefined;
  }
}

/**
 * 2. The card step and what it counted. A 9000 counts one; the card's status is read only when
 * quorum is expected (the card decides it) or the answer is ambiguous. Undefined when the count
 * cannot be known: the caller must then make the card forget.
 */
export async function presentAndCount(
  card: SmartCardHsm,
  keyChr: string,
  plain: Uint8Array,
  before: number,
  n: number,
): Promise<Count | undefined> {
  const sw = await presentSignature(card, keyChr, plain);
  if (sw === SW.OK) {
    const expected = before + 1;
    if (expected < n) return { sw, counted: true, authenticated: expected, reason: undefined };
    const now = await cardCount(card);
    if (now === undefined) return undefined;
    return { sw, counted: true, authenticated: now, reason: undefined };
  }
  const now = await cardCount(card);
  if (now === undefined) return undefined;
  const answered = sw === undefined ? 'an unreadable answer' : swHex(sw);
  // Never fewer approvals recorded than the card counted: its count decides, not the SW.
  if (now > before) {
    return {
      sw: sw ?? SW.INTERNAL_ERROR,
      counted: true,
      authenticated: now,
      reason: `the target answered ${answered} but counted the authentication`,
    };
  }
  return {
    sw: sw ?? SW.INTERNAL_ERROR,
    counted: false,
    authenticated: now,
    reason: `target refused the authentication (${answered})`,
  };
}
