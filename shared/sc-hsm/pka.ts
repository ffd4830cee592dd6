/**
 * Public Key Authentication commands: MANAGE PKA (status, register, enumerate), MSE SET AT,
 * PSO VERIFY CERTIFICATE, GET CHALLENGE and EXTERNAL AUTHENTICATE (docs/card-reference.md §6.4–§6.6).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { SW, swHex } from '../card/status-words';
import { decodeTlv, encodeTlv } from '../codec/tlv';
import { err, ok, type Result } from '../result';
import { CLA, INS } from './constants';
import { assertInt, scHsmError, type ScHsmError } from './errors';

/** PKA status (docs/card-reference.md §6.4): `m` keys, `missing` not yet registered, `n` needed, `authenticated` now. */
export type PkaStatus = {
  readonly m: number;
  readonly missing: number;
  readonly n: number;
  readonly authenticated: number;
};

/** One PKA slot as enumerated with `80 54 02 <i>` (Pico only, docs/card-reference.md §6.4). */
export type PkaSlot =
  | { readonly state: 'empty' }
  | { readonly state: 'registered'; readonly chr: Uint8Array; readonly authenticated: boolean };

const TAG_AUTH_REQUEST = 0x67;
const TAG_CVC = 0x7f21;
const TAG_KEY_REF = 0x83;
/** Longest CHR/CAR (docs/card-reference.md §4.1). */
const MAX_REFERENCE = 16;
/** MSE SET AT P1 `81` = set for verification/external authentication (docs/card-reference.md §6.5, §6.6). */
const MSE_SET_VERIFY = 0x81;

/** The two MSE SET templates used by PKA: `B6` select a verification key (import), `A4` select a PKA key. */
export type MseTemplate = 'B6' | 'A4';

/** `80 54 00 00 04`: PKA status (docs/card-reference.md §6.4). */
export function pkaStatusCommand(): CommandApdu {
  return command(CLA.PROPRIETARY, INS.MANAGE_PKA, 0x00, 0x00, new Uint8Array(0), 4);
}

/** Parses the 4 PKA status bytes `m ‖ missing ‖ n ‖ authenticated`, checking they agree. */
export function parsePkaStatus(data: Uint8Array): Result<PkaStatus, ScHsmError> {
  if (data.length !== 4) {
    return err(scHsmError('malformed-response', `PKA status has ${data.length} bytes, expected 4`));
  }
  const [m, missing, n, authenticated] = [data[0]!, data[1]!, data[2]!, data[3]!];
  if (m === 0 || n === 0 || n > m || missing > m || authenticated > m) {
    return err(
      scHsmError(
        'malformed-response',
        `inconsistent PKA status m=${m} missing=${missing} n=${n} authenticated=${authenticated}`,
      ),
    );
  }
  return ok({ m, missing, n, authenticated });
}

/**
 * `80 54 00 00 Lc <value of 67> 04`: register the next public key (docs/card-reference.md §6.4). Takes the
 * whole authenticated request `67 { 7F21 …, 42 …, 5F37 … }` and sends its content, which is what
 * the card expects.
 */
export function registerPkaKeyCommand(
  authenticatedRequest: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  const tlv = decodeTlv(authenticatedRequest);
  if (!tlv.ok || tlv.value.tag !== TAG_AUTH_REQUEST) {
    return err(
      scHsmError('invalid-argument', 'registration needs an authenticated request (tag 67)'),
    );
  }
  return ok(command(CLA.PROPRIETARY, INS.MANAGE_PKA, 0x00, 0x00, tlv.value.value.slice(), 4));
}

/** `80 54 02 <slot>`: enumerate a registered key (Pico, docs/card-reference.md §6.4). */
export function enumeratePkaSlotCommand(slot: number): CommandApdu {
  assertInt('PKA slot', slot, 0, 0xff);
  return command(CLA.PROPRIETARY, INS.MANAGE_PKA, 0x02, slot, new Uint8Array(0), 256);
}

/** Interprets the answer to {@link enumeratePkaSlotCommand}: `9000`/`9001` CHR, `6A88` empty. */
export function parsePkaSlot(data: Uint8Array, sw: number): Result<PkaSlot, ScHsmError> {
  if (sw === SW.REFERENCED_DATA_NOT_FOUND) return ok({ state: 'empty' });
  if (sw !== SW.OK && sw !== SW.PKA_KEY_AUTHENTICATED) {
    return err(scHsmError('unexpected-sw', `PKA enumerate answered ${swHex(sw)}`));
  }
  if (data.length === 0 || data.length > MAX_REFERENCE) {
    return err(scHsmError('malformed-response', `PKA slot CHR of ${data.length} bytes`));
  }
  return ok({
    state: 'registered',
    chr: data.slice(),
    authenticated: sw === SW.PKA_KEY_AUTHENTICATED,
  });
}

function checkReference(name: string, ref: Uint8Array): void {
  if (ref.length === 0 || ref.length > MAX_REFERENCE) {
    throw new RangeError(`${name} must be 1–${MAX_REFERENCE} bytes, got ${ref.length}`);
  }
}

/**
 * `00 22 81 <B6|A4> Lc 83 L <reference>`. `B6` with a CHR asks "is this key known?" and with a
 * CAR selects the issuer key for PSO (docs/card-reference.md §6.5); `A4` selects a registered PKA key by the
 * CHR of its request (docs/card-reference.md §6.6 step 1).
 * @throws RangeError when the reference is empty or longer than 16 bytes
 */
export function mseSetCommand(template: MseTemplate, reference: Uint8Array): CommandApdu {
  checkReference('key reference', reference);
  const p2 = template === 'B6' ? 0xb6 : 0xa4;
  return command(CLA.ISO, INS.MANAGE_SE, MSE_SET_VERIFY, p2, encodeTlv(TAG_KEY_REF, reference));
}

/**
 * `00 2A 00 BE Lc <value of 7F21>`: PSO VERIFY CERTIFICATE with the key selected by MSE `B6`
 * (docs/card-reference.md §6.5 step 3). Takes the whole CVC and sends the body and signature without the
 * `7F21` header, the form genuine devices get from OpenSC.
 */
export function psoVerifyCertificateCommand(cvc: Uint8Array): Result<CommandApdu, ScHsmError> {
  const tlv = decodeTlv(cvc);
  if (!tlv.ok || tlv.value.tag !== TAG_CVC) {
    return err(
      scHsmError('invalid-argument', 'PSO VERIFY CERTIFICATE needs a CV certificate (tag 7F21)'),
    );
  }
  return ok(command(CLA.ISO, INS.PSO, 0x00, 0xbe, tlv.value.value.slice()));
}

/** `00 84 00 00 <len>`: GET CHALLENGE; PKA uses 8 bytes (docs/card-reference.md §6.6 step 2, §13.4). */
export function getChallengeCommand(length = 8): CommandApdu {
  assertInt('challenge length', length, 1, 256);
  return command(CLA.ISO, INS.GET_CHALLENGE, 0x00, 0x00, new Uint8Array(0), length);
}

/** Longest plain signature: r‖s of a 521-bit curve. */
const MAX_PLAIN_SIGNATURE = 132;

/**
 * `00 82 00 00 Lc <r‖s>`: EXTERNAL AUTHENTICATE with a plain ECDSA signature over
 * `CHR(target) ‖ challenge` (docs/card-reference.md §6.6 step 6; 64 bytes for 256-bit keys).
 */
export function externalAuthenticateCommand(
  signature: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  const n = signature.length;
  if (n === 0 || n % 2 !== 0 || n > MAX_PLAIN_SIGNATURE) {
    return err(scHsmError('invalid-argument', `plain signature r‖s expected, got ${n} bytes`));
  }
  return ok(command(CLA.ISO, INS.EXTERNAL_AUTHENTICATE, 0x00, 0x00, signature.slice()));
}
