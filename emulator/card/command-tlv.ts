/**
 * How the emulated card reads the TLVs of a command's data field. BER (X.690 §8.1.3.5) lets a
 * length be written in more octets than needed (`53 82 00 14` for 20 bytes) and clients do
 * send that; the card takes it (docs/card-reference.md, "BER lengths in command data"). What
 * the card verifies as a signed object — CVCs imported with PSO VERIFY CERTIFICATE, the
 * authenticated request of a PKA registration — stays strict DER, since its signature covers
 * the exact encoding.
 * @module
 */
import { decodeTlvList, type Tlv, type TlvOptions } from '../../shared/codec/tlv';
import { SW } from '../../shared/card/status-words';
import { check } from './reply';

/** Decoder options for command data: non-minimal BER lengths accepted. */
export const COMMAND_TLV: TlvOptions = { allowNonMinimalLength: true };

/** The TLV list of a command data field; `6A80` when it is not one. */
export function commandTlvs(data: Uint8Array, what: string): Tlv[] {
  const parsed = decodeTlvList(data, COMMAND_TLV);
  check(parsed.ok, SW.WRONG_DATA, `${what} is not a TLV list`);
  return parsed.value;
}
