/**
 * Elementary-file commands with the SmartCard-HSM's odd-INS offset encoding: READ BINARY `B1`,
 * UPDATE BINARY `D7`, ENUMERATE OBJECTS `80 58` and DELETE FILE `E4` (docs/card-reference.md §1.4, §2, §8.1).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { concatBytes, writeUint } from '../codec/bytes';
import { encodeTlv } from '../codec/tlv';
import { err, ok, type Result } from '../result';
import { CLA, INS } from './constants';
import { assertFid, assertInt, scHsmError, type ScHsmError } from './errors';

/** Offset data object of the odd-INS commands (docs/card-reference.md §8.1). */
const TAG_OFFSET = 0x54;
/** Discretionary data object carrying the bytes to write (docs/card-reference.md §8.1). */
const TAG_DATA = 0x53;
/** Largest Ne of an extended APDU: "return the whole EF" (docs/card-reference.md §5.2). */
export const WHOLE_EF = 65536;
/** Default whole-APDU size limit of CardContact's scripts (docs/card-reference.md §1.4). */
export const DEFAULT_MAX_APDU = 1000;
/** UPDATE BINARY overhead: header 4, Lc 3, `54 02 xx xx` 4, `53 82 xx xx` 4 (docs/card-reference.md §1.4). */
const UPDATE_OVERHEAD = 15;

/** The FID of object `id` in a prefix range, e.g. `objectFid(PREFIX.PRKD, 3)` = `C403` (docs/card-reference.md §2.2). */
export function objectFid(prefix: number, id: number): number {
  assertInt('FID prefix', prefix, 0, 0xff);
  assertInt('object id', id, 0, 0xff);
  return (prefix << 8) | id;
}

/**
 * `00 B1 <FID> 04 54 02 <offset> <Le>`: READ BINARY at an offset. With the default Ne (65536,
 * extended `00 00`) the card returns the whole EF from `offset` in one answer; pass a smaller Ne
 * for chunked reads over short APDUs (docs/card-reference.md §5.2).
 */
export function readBinaryCommand(fid: number, offset = 0, ne = WHOLE_EF): CommandApdu {
  assertFid(fid);
  assertInt('offset', offset, 0, 0xffff);
  assertInt('Ne', ne, 1, WHOLE_EF);
  return command(
    CLA.ISO,
    INS.READ_BINARY_ODD,
    fid >> 8,
    fid & 0xff,
    encodeTlv(TAG_OFFSET, writeUint(offset, 2)),
    ne,
  );
}

/** Options for {@link updateBinaryCommands}. */
export type UpdateOptions = {
  /** Whole-APDU limit of the card/reader (default 1000, docs/card-reference.md §1.4). */
  readonly maxApdu?: number;
  /** Offset of the first byte (default 0). */
  readonly offset?: number;
};

/**
 * `00 D7 <FID> Lc 54 02 <offset> 53 L <data>` in as many chunks as the APDU limit needs
 * (chunk = maxApdu − 15, docs/card-reference.md §1.4). Empty data gives one command that creates an empty EF.
 */
export function updateBinaryCommands(
  fid: number,
  data: Uint8Array,
  options: UpdateOptions = {},
): Result<CommandApdu[], ScHsmError> {
  assertFid(fid);
  const maxApdu = options.maxApdu ?? DEFAULT_MAX_APDU;
  const start = options.offset ?? 0;
  if (!Number.isInteger(maxApdu) || maxApdu < UPDATE_OVERHEAD + 1 || maxApdu > 65535 + 9) {
    return err(scHsmError('invalid-argument', `APDU limit ${maxApdu} too small or too large`));
  }
  if (!Number.isInteger(start) || start < 0 || start > 0xffff || start + data.length > 0x10000) {
    return err(scHsmError('invalid-argument', 'data does not fit below offset 65536'));
  }
  const chunk = Math.min(maxApdu - UPDATE_OVERHEAD, 0xffff - 8);
  const out: CommandApdu[] = [];
  let pos = 0;
  do {
    const part = data.subarray(pos, pos + chunk);
    const offset = start + pos;
    // The last chunk can end exactly at 65536; its offset is still ≤ 0xFFFF.
    const body = concatBytes(
      encodeTlv(TAG_OFFSET, writeUint(offset, 2)),
      encodeTlv(TAG_DATA, part),
    );
    out.push(command(CLA.ISO, INS.UPDATE_BINARY_ODD, fid >> 8, fid & 0xff, body));
    pos += part.length;
  } while (pos < data.length);
  return ok(out);
}

/** `80 58 00 00 00 00 00`: ENUMERATE OBJECTS, extended Le (docs/card-reference.md §1.4, §8.1). */
export function enumerateObjectsCommand(): CommandApdu {
  return command(CLA.PROPRIETARY, INS.ENUMERATE_OBJECTS, 0x00, 0x00, new Uint8Array(0), WHOLE_EF);
}

/** Parses the ENUMERATE OBJECTS answer: a concatenation of 2-byte FIDs (docs/card-reference.md §8.1). */
export function parseObjectList(data: Uint8Array): Result<number[], ScHsmError> {
  if (data.length % 2 !== 0) {
    return err(scHsmError('malformed-response', `object list of odd length ${data.length}`));
  }
  const fids: number[] = [];
  for (let i = 0; i < data.length; i += 2) fids.push((data[i]! << 8) | data[i + 1]!);
  return ok(fids);
}

/** `00 E4 02 00 02 <FID>`: DELETE FILE (docs/card-reference.md §8.1). */
export function deleteFileCommand(fid: number): CommandApdu {
  assertFid(fid);
  return command(CLA.ISO, INS.DELETE_FILE, 0x02, 0x00, writeUint(fid, 2));
}
