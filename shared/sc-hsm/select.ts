/**
 * SELECT of the SmartCard-HSM applet and the parser of its FCP answer (docs/card-reference.md §1.3).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { decodeTlvAt, decodeTlvList, isConstructed, type Tlv } from '../codec/tlv';
import { err, ok, type Result } from '../result';
import { CLA, INS, SC_HSM_AID } from './constants';
import { scHsmError, type ScHsmError } from './errors';

/** What the applet reports in the proprietary FCP tag `85` (docs/card-reference.md §1.3). */
export type AppletInfo = {
  /** Firmware/applet version, e.g. 3.4. */
  readonly version: { readonly major: number; readonly minor: number };
  /** Platform/applet type byte (`00` JCOP applet, `01` demo), when reported (≥ 3 bytes). */
  readonly type?: number;
  /**
   * Initialization option mask (docs/card-reference.md §3.5), when reported: the low byte from 4-byte
   * answers, both bytes from 5-byte answers (high byte confirmed by Pico only).
   */
  readonly options?: number;
};

/**
 * `00 A4 04 04 0B <AID> 00`: select the applet and return the FCP (`fcp`, the default), or
 * `00 A4 04 0C 0B <AID>`: select without an answer (`no-data`, applet ≥ 0.16). Either form
 * clears PIN and PKA authentication (docs/card-reference.md §1.3, §6.7), so it doubles as logout.
 */
export function selectApplet(mode: 'fcp' | 'no-data' = 'fcp'): CommandApdu {
  return mode === 'fcp'
    ? command(CLA.ISO, INS.SELECT, 0x04, 0x04, SC_HSM_AID, 256)
    : command(CLA.ISO, INS.SELECT, 0x04, 0x0c, SC_HSM_AID);
}

const FCP_TAG = 0x62;
const PROPRIETARY_TAG = 0x85;
/** Depth limit for the search below; real FCPs nest at most one level. */
const MAX_DEPTH = 4;

/** Depth-first search for `tag` in a TLV list, descending into constructed TLVs that decode. */
function findDeep(list: readonly Tlv[], tag: number, depth: number): Tlv | undefined {
  for (const t of list) {
    if (t.tag === tag) return t;
    if (depth < MAX_DEPTH && isConstructed(t.tag)) {
      const inner = decodeTlvList(t.value, { allowNonMinimalLength: true });
      if (inner.ok) {
        const hit = findDeep(inner.value, tag, depth + 1);
        if (hit) return hit;
      }
    }
  }
  return undefined;
}

/** Decodes the value of tag `85`, reading from its end (docs/card-reference.md §1.3 table). */
export function parseProprietaryInfo(value: Uint8Array): Result<AppletInfo, ScHsmError> {
  const n = value.length;
  if (n < 2 || n > 5) {
    return err(scHsmError('malformed-response', `FCP tag 85 has ${n} bytes; expected 2 to 5`));
  }
  const version = { major: value[n - 2]!, minor: value[n - 1]! };
  if (n === 2) return ok({ version });
  const type = value[n - 3]!;
  if (n === 3) return ok({ version, type });
  const low = value[n - 4]!;
  const options = n === 5 ? (value[0]! << 8) | low : low;
  return ok({ version, type, options });
}

/**
 * Parses the SELECT answer: an FCP template `62` holding tag `85` somewhere inside (cards vary in
 * what else they put there and how deep). Tolerates non-minimal lengths and trailing bytes after
 * the template; requires the template and a 2–5 byte tag `85` (what OpenSC requires to accept a
 * card as SmartCard-HSM, docs/card-reference.md §1.2).
 */
export function parseSelectResponse(data: Uint8Array): Result<AppletInfo, ScHsmError> {
  if (data.length === 0) {
    return err(scHsmError('malformed-response', 'SELECT returned no FCP (was P2=0C used?)'));
  }
  const outer = decodeTlvAt(data, 0, { allowNonMinimalLength: true });
  if (!outer.ok) {
    return err(scHsmError('malformed-response', `SELECT answer: ${outer.error.message}`));
  }
  if (outer.value.tag !== FCP_TAG) {
    return err(
      scHsmError(
        'malformed-response',
        `SELECT answer is not an FCP template (tag ${outer.value.tag.toString(16)})`,
      ),
    );
  }
  const inner = decodeTlvList(outer.value.value, { allowNonMinimalLength: true });
  if (!inner.ok) {
    return err(scHsmError('malformed-response', `FCP content: ${inner.error.message}`));
  }
  const prop = findDeep(inner.value, PROPRIETARY_TAG, 0);
  if (!prop) return err(scHsmError('malformed-response', 'FCP has no proprietary tag 85'));
  return parseProprietaryInfo(prop.value);
}
