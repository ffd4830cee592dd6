/**
 * PKCS#15 private-key descriptions (PRKD, EF `C4<id>`) as the SmartCard-HSM tools write them,
 * reduced to what is displayed: label, key id, key size (docs/card-reference.md §2.3).
 * @module
 */
import { decodeTlv, decodeTlvList, encodeTlv, findTlv, type Tlv } from '../codec/tlv';
import { readUint } from '../codec/bytes';
import { err, ok, type Result } from '../result';
import { scHsmError, type ScHsmError } from './errors';

/** Kind of key a PRKD describes, from its outer tag (docs/card-reference.md §2.3). */
export type PrkdKind = 'ec' | 'rsa' | 'secret';

/** The displayable content of a PRKD. */
export type Prkd = {
  readonly kind: PrkdKind;
  readonly label?: string;
  /** PKCS#15 key id (`04`), often a hash of the public key or the 1-byte key reference. */
  readonly id?: Uint8Array;
  /** Key size in bits (`A1/30/02`). */
  readonly size?: number;
};

/** What {@link encodePrkd} writes for a key. */
export type PrkdInput = {
  /** EC (`A0`, the default) or RSA (`30`): PKCS#15 PrivateKeyChoice. */
  readonly kind?: 'ec' | 'rsa';
  readonly label: string;
  readonly id: Uint8Array;
  readonly size: number;
};

const KIND_BY_TAG: Readonly<Record<number, PrkdKind>> = { 0xa0: 'ec', 0x30: 'rsa', 0xa8: 'secret' };
/** PKCS#15 KeyUsageFlags with `sign` (bit 2) set: BIT STRING, 5 unused bits, `20`. */
const USAGE_SIGN = Uint8Array.of(0x05, 0x20);
/** Longest label accepted (PKCS#15 labels are short; this bounds card storage). */
const MAX_LABEL = 64;

/**
 * Encodes an EC PRKD `A0 { 30 { 0C label } , 30 { 04 id , 03 usage } , A1 { 30 { 30 { 04 path } ,
 * 02 size } } }` (docs/card-reference.md §2.3) with usage "sign".
 * @throws RangeError on an empty/too long label, an empty/too long id or a bad size
 */
export function encodePrkd(input: PrkdInput): Uint8Array {
  const label = new TextEncoder().encode(input.label);
  if (label.length === 0 || label.length > MAX_LABEL)
    throw new RangeError(`label must be 1–${MAX_LABEL} bytes`);
  if (input.id.length === 0 || input.id.length > 32)
    throw new RangeError('key id must be 1–32 bytes');
  if (!Number.isInteger(input.size) || input.size < 1 || input.size > 0x7fff)
    throw new RangeError('bad key size');
  const size =
    input.size > 0x7f
      ? Uint8Array.of(input.size >> 8, input.size & 0xff)
      : Uint8Array.of(input.size);
  return encodeTlv(
    input.kind === 'rsa' ? 0x30 : 0xa0,
    encodeTlv(0x30, encodeTlv(0x0c, label)),
    encodeTlv(0x30, encodeTlv(0x04, input.id), encodeTlv(0x03, USAGE_SIGN)),
    encodeTlv(
      0xa1,
      encodeTlv(0x30, encodeTlv(0x30, encodeTlv(0x04, new Uint8Array(0))), encodeTlv(0x02, size)),
    ),
  );
}

const fail = (message: string) => err(scHsmError('malformed-response', `PRKD: ${message}`));

function childrenOf(t: Tlv | undefined): Tlv[] | undefined {
  if (!t) return undefined;
  const r = decodeTlvList(t.value);
  return r.ok ? r.value : undefined;
}

/**
 * Parses a PRKD leniently the way pypicohsm does: label from the first `30/0C`, id from the
 * second `30/04`, size from `A1/30/02`; absent parts are omitted. The outer TLV itself must be
 * well formed and one of `A0` (EC), `30` (RSA), `A8` (secret key).
 */
export function parsePrkd(data: Uint8Array): Result<Prkd, ScHsmError> {
  const outer = decodeTlv(data);
  if (!outer.ok) return fail(outer.error.message);
  const kind = KIND_BY_TAG[outer.value.tag];
  if (!kind) return fail(`unexpected outer tag ${outer.value.tag.toString(16)}`);
  const items = decodeTlvList(outer.value.value);
  if (!items.ok) return fail(items.error.message);
  const seqs = items.value.filter((t) => t.tag === 0x30);
  let result: { kind: PrkdKind; label?: string; id?: Uint8Array; size?: number } = { kind };

  const labelTlv = findTlv(childrenOf(seqs[0]) ?? [], 0x0c);
  if (labelTlv) {
    const text = decodeUtf8(labelTlv.value);
    if (text !== undefined) result = { ...result, label: text };
  }
  const idTlv = findTlv(childrenOf(seqs[1]) ?? [], 0x04);
  if (idTlv && idTlv.value.length > 0) result = { ...result, id: idTlv.value.slice() };

  const attrs = childrenOf(findTlv(items.value, 0xa1));
  const sizeTlv = findTlv(childrenOf(findTlv(attrs ?? [], 0x30)) ?? [], 0x02);
  if (
    sizeTlv &&
    sizeTlv.value.length >= 1 &&
    sizeTlv.value.length <= 4 &&
    (sizeTlv.value[0]! & 0x80) === 0
  ) {
    result = { ...result, size: readUint(sizeTlv.value) };
  }
  return ok(result);
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
