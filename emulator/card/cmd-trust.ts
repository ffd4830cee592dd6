/**
 * MSE SET AT `81 B6` (select a verification key) and PSO VERIFY CERTIFICATE `00 2A 00 BE`
 * (import a certificate): the attestation chain root → DICA → device of a PKA registration
 * (docs/card-reference.md §6.5). Imported certificates are volatile (docs/card-reference.md §13.13 choice, see README).
 * @module
 */
import { bytesEqual } from '../../shared/codec/bytes';
import { decodeTlvAt, encodeTlv } from '../../shared/codec/tlv';
import { SW } from '../../shared/card/status-words';
import { parseCvc, type Cvc } from '../../shared/cvc/cvc';
import { compareCvcDate, cvcDateFromDate } from '../../shared/cvc/date';
import { keyOf, verifyCvc, verifySelfSigned } from '../../shared/cvc/verify';
import type { CardContext, Handler } from './context';
import { check, reply, SwError } from './reply';
import type { KnownKey } from './session';
import { COMMAND_TLV } from './command-tlv';
import type { DeviceState } from './state';

/** Depth of a device certificate below the root: root 0, DICA 1, device 2 (docs/card-reference.md §5.1). */
export const DEVICE_DEPTH = 2;
/** Most certificates one session may import. */
const MAX_IMPORTED = 16;

/** The trusted roots as verification keys (self-signed, with domain parameters). */
export function trustedRootKeys(state: DeviceState): KnownKey[] {
  const out: KnownKey[] = [];
  for (const encoded of state.trustedRoots) {
    const cvc = parseCvc(encoded);
    if (!cvc.ok || !verifySelfSigned(cvc.value)) continue;
    const key = keyOf(cvc.value);
    if (key.ok) out.push({ chr: cvc.value.body.chrBytes, depth: 0, ...key.value });
  }
  return out;
}

/** A known key by CHR: trusted roots first, then certificates imported in this session. */
export function findKnownKey(ctx: CardContext, chr: Uint8Array): KnownKey | undefined {
  return [...trustedRootKeys(ctx.state), ...ctx.session.imported].find((k) =>
    bytesEqual(k.chr, chr),
  );
}

/** Parses the `83` key reference of an MSE SET AT data field. */
export function keyReference(data: Uint8Array): Uint8Array {
  const t = decodeTlvAt(data, 0, COMMAND_TLV);
  check(t.ok && t.value.end === data.length && t.value.tag === 0x83, SW.WRONG_DATA, 'need 83');
  check(t.value.value.length >= 1 && t.value.value.length <= 16, SW.WRONG_DATA, 'bad reference');
  return t.value.value.slice();
}

/** `00 22 81 B6 { 83 CHR }`: 9000 when the key is known, `6A88` otherwise (docs/card-reference.md §6.5 step 1–2). */
export function selectVerificationKey(ctx: CardContext, chr: Uint8Array): void {
  const key = findKnownKey(ctx, chr);
  if (!key) {
    delete ctx.session.verifier;
    throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'unknown public key');
  }
  ctx.session.verifier = key;
}

/** The certificate in a PSO data field: the value of `7F21` or the whole TLV (docs/card-reference.md §6.5 step 3). */
function certificateOf(data: Uint8Array): Cvc {
  const whole =
    data.length > 2 && data[0] === 0x7f && data[1] === 0x21 ? parseCvc(data) : undefined;
  const cvc = whole?.ok ? whole : parseCvc(encodeTlv(0x7f21, data));
  if (!cvc.ok) throw new SwError(SW.WRONG_DATA, `certificate: ${cvc.error.message}`);
  return cvc.value;
}

/**
 * `00 2A 00 BE <certificate>`: verifies a CVC with the key selected by MSE `81 B6` and makes its
 * key known for this session. `6A88` no issuer selected, `6A80` malformed or wrong CAR, `6985`
 * bad signature, expired, or deeper than a device certificate.
 */
export const verifyCertificate: Handler = (ctx, cmd) => {
  check(cmd.p1 === 0x00 && cmd.p2 === 0xbe, SW.INCORRECT_P1P2, 'only 00 BE');
  check(cmd.data.length > 0, SW.WRONG_LENGTH, 'no certificate');
  const issuer = ctx.session.verifier;
  if (!issuer) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'no issuer key selected');
  const cvc = certificateOf(cmd.data);
  const car = cvc.body.car;
  check(
    car !== undefined && bytesEqual(new TextEncoder().encode(car), issuer.chr),
    SW.WRONG_DATA,
    'CAR does not name the selected key',
  );
  check(issuer.depth < DEVICE_DEPTH, SW.CONDITIONS_NOT_SATISFIED, 'chain too deep');
  const key = keyOf(cvc, issuer.curve.domain);
  if (!key.ok) throw new SwError(SW.WRONG_DATA, key.error.message);
  check(verifyCvc(cvc, issuer), SW.CONDITIONS_NOT_SATISFIED, 'bad certificate signature');
  const exp = cvc.body.expiration;
  check(
    exp === undefined || compareCvcDate(exp, cvcDateFromDate(new Date())) >= 0,
    SW.CONDITIONS_NOT_SATISFIED,
    'certificate expired',
  );
  const known: KnownKey = { chr: cvc.body.chrBytes, depth: issuer.depth + 1, ...key.value };
  const imported = ctx.session.imported.filter((k) => !bytesEqual(k.chr, known.chr));
  check(imported.length < MAX_IMPORTED, SW.NOT_ENOUGH_MEMORY, 'too many imported certificates');
  imported.push(known);
  ctx.session.imported = imported;
  return reply();
};
