/**
 * SELECT, ENUMERATE OBJECTS, READ BINARY (`B0`, odd `B1`), UPDATE BINARY (odd `D7`) and
 * DELETE FILE (docs/card-reference.md §1.3, §2, §5.2, §8.1).
 * @module
 */
import { bytesEqual, concatBytes, readUint, writeUint } from '../../shared/codec/bytes';
import { encodeTlv, findTlv } from '../../shared/codec/tlv';
import { commandTlvs } from './command-tlv';
import { SW } from '../../shared/card/status-words';
import { PREFIX, SC_HSM_AID } from '../../shared/sc-hsm/constants';
import type { CardContext, Handler } from './context';
import {
  checkWritable,
  fileContent,
  keyExists,
  listObjects,
  MAX_FILE_SIZE,
  prefixOf,
  readableContent,
} from './files';
import { check, reply, SwError, type Reply } from './reply';
import { clearSession } from './session';
import { memoryFree, type DeviceState } from './state';

/**
 * FCP of the applet: `62 { 82 01 38, 84 <AID>, 85 05 options(2) type(00) major minor }`
 * (docs/card-reference.md §1.3; only tag 85 is used by clients, layout of the 5-byte form per §1.3 table).
 */
export function appletFcp(state: DeviceState): Uint8Array {
  const prop = Uint8Array.of(
    (state.options >> 8) & 0xff,
    state.options & 0xff,
    0x00,
    state.firmware.major,
    state.firmware.minor,
  );
  return encodeTlv(
    0x62,
    encodeTlv(0x82, Uint8Array.of(0x38)),
    encodeTlv(0x84, SC_HSM_AID),
    encodeTlv(0x85, prop),
  );
}

/** FCP of an EF: size, transparent structure, FID. */
function efFcp(fid: number, size: number): Uint8Array {
  return encodeTlv(
    0x62,
    encodeTlv(0x80, writeUint(size, 2)),
    encodeTlv(0x82, Uint8Array.of(0x01)),
    encodeTlv(0x83, writeUint(fid, 2)),
  );
}

/**
 * `00 A4 04 xx <AID>` selects the applet and clears all volatile state (docs/card-reference.md §1.3, §6.7);
 * any other AID deselects it (6A82). `00 A4 00|02|08|09 xx <FID>` selects an EF (no logout).
 */
export const select: Handler = (ctx, cmd) => {
  const { state, session } = ctx;
  check([0x00, 0x04, 0x0c].includes(cmd.p2), SW.INCORRECT_P1P2, 'P2 must be 00, 04 or 0C');
  const wantFcp = cmd.p2 !== 0x0c;
  if (cmd.p1 === 0x04) {
    check(cmd.data.length >= 1 && cmd.data.length <= 16, SW.WRONG_LENGTH, 'AID length');
    if (!bytesEqual(cmd.data, SC_HSM_AID)) {
      clearSession(session, false);
      throw new SwError(SW.FILE_NOT_FOUND, 'unknown AID');
    }
    clearSession(session, true);
    return reply(wantFcp ? appletFcp(state) : new Uint8Array(0));
  }
  check(session.selected, SW.FILE_NOT_FOUND, 'applet not selected');
  // FID (P1 00/02) or a one-element path (P1 08/09): OpenSC selects `3F00/2F02` as path 2F02.
  check([0x00, 0x02, 0x08, 0x09].includes(cmd.p1), SW.INCORRECT_P1P2, 'select by AID or FID');
  const isPath = cmd.p1 === 0x08 || cmd.p1 === 0x09;
  check(cmd.data.length === 2 || (isPath && cmd.data.length % 2 === 0), SW.WRONG_DATA, 'FID');
  // The applet has no DFs: a longer path names nothing (OpenSC probes 5015/4946).
  if (cmd.data.length !== 2) throw new SwError(SW.FILE_NOT_FOUND, 'no such path');
  const fid = readUint(cmd.data);
  const content = fileContent(state, fid);
  if (!content && !keyExists(state, fid)) throw new SwError(SW.FILE_NOT_FOUND);
  session.currentEf = fid;
  return reply(wantFcp ? efFcp(fid, content?.length ?? 0) : new Uint8Array(0));
};

/** `80 58 00 00`: all object FIDs, 2 bytes each (docs/card-reference.md §8.1). */
export const enumerateObjects: Handler = (ctx, cmd) => {
  check(cmd.p1 === 0 && cmd.p2 === 0, SW.INCORRECT_P1P2);
  return reply(concatBytes(...listObjects(ctx.state).map((f) => writeUint(f, 2))));
};

/** Returns `content[offset…]` bounded by Ne; `6282` when the EF ends before Ne bytes (docs/card-reference.md §5.2). */
function readFrom(content: Uint8Array, offset: number, ne: number | undefined): Reply {
  if (offset > content.length) throw new SwError(SW.WRONG_P1P2, 'offset beyond end of file');
  const available = content.length - offset;
  const want = ne ?? available;
  const count = Math.min(want, available);
  return reply(content.slice(offset, offset + count), count < want ? SW.END_OF_FILE : SW.OK);
}

/**
 * The FID in P1P2, `0000` meaning the currently selected EF. An explicit FID becomes the
 * current EF (ISO 7816-4 §7.2.2 implicit selection): OpenSC creates an EF with `D7 <FID>` and
 * then writes through `D7 00 00`.
 */
function targetFid(ctx: CardContext, p1: number, p2: number): number {
  const fid = (p1 << 8) | p2;
  if (fid !== 0) {
    ctx.session.currentEf = fid;
    return fid;
  }
  if (ctx.session.currentEf === undefined) throw new SwError(SW.COMMAND_NOT_ALLOWED, 'no EF');
  return ctx.session.currentEf;
}

/** The optional `54` offset TLV (1–2 bytes) of odd-INS commands. */
function offsetOf(value: Uint8Array | undefined): number {
  if (value === undefined) return 0;
  check(value.length >= 1 && value.length <= 2, SW.WRONG_DATA, 'offset TLV 54 is 1–2 bytes');
  return readUint(value);
}

/** `00 B1 <FID> 54 02 <offset>` (docs/card-reference.md §8.1). */
export const readBinaryOdd: Handler = (ctx, cmd) => {
  const fid = targetFid(ctx, cmd.p1, cmd.p2);
  const tlvs = commandTlvs(cmd.data, 'READ BINARY data');
  const offset = offsetOf(findTlv(tlvs, 0x54)?.value);
  return readFrom(readableContent(ctx, fid), offset, cmd.ne);
};

/** `00 B0 <offset>` on the EF selected by FID. */
export const readBinary: Handler = (ctx, cmd) => {
  check((cmd.p1 & 0x80) === 0, SW.FUNCTION_NOT_SUPPORTED, 'short EF identifiers unsupported');
  check(cmd.data.length === 0, SW.WRONG_LENGTH);
  const fid = targetFid(ctx, 0, 0);
  return readFrom(readableContent(ctx, fid), (cmd.p1 << 8) | cmd.p2, cmd.ne);
};

/** `00 D7 <FID> 54 02 <offset> 53 L <data>`: writes, creating the EF if missing (docs/card-reference.md §8.1). */
export const updateBinaryOdd: Handler = (ctx, cmd) => {
  const { state } = ctx;
  const fid = targetFid(ctx, cmd.p1, cmd.p2);
  checkWritable(ctx, fid);
  check(prefixOf(fid) !== PREFIX.KEY, SW.SECURITY_STATUS_NOT_SATISFIED, 'key objects');
  const tlvs = commandTlvs(cmd.data, 'UPDATE BINARY data');
  const data = findTlv(tlvs, 0x53);
  check(data !== undefined, SW.WRONG_DATA, 'tag 53 missing');
  const offset = offsetOf(findTlv(tlvs, 0x54)?.value);
  const old = state.files.get(fid) ?? new Uint8Array(0);
  check(offset <= old.length, SW.WRONG_P1P2, 'offset beyond end of file');
  const size = Math.max(old.length, offset + data.value.length);
  check(size <= MAX_FILE_SIZE, SW.NOT_ENOUGH_MEMORY, 'file too large');
  check(size - old.length <= memoryFree(state), SW.NOT_ENOUGH_MEMORY, 'memory full');
  const next = new Uint8Array(size);
  next.set(old, 0);
  next.set(data.value, offset);
  state.files.set(fid, next);
  ctx.persist();
  return reply();
};

/** `00 E4 02 00 02 <FID>`: deletes an EF or a key object (docs/card-reference.md §8.1). */
export const deleteFile: Handler = (ctx, cmd) => {
  const { state } = ctx;
  check(cmd.p1 === 0x02 && cmd.p2 === 0x00, SW.INCORRECT_P1P2, 'P1P2 must be 02 00');
  check(cmd.data.length === 2, SW.WRONG_DATA, 'FID is 2 bytes');
  const fid = readUint(cmd.data);
  checkWritable(ctx, fid);
  if (prefixOf(fid) === PREFIX.KEY) {
    const id = fid & 0xff;
    check(id !== 0, SW.SECURITY_STATUS_NOT_SATISFIED, 'the device key cannot be deleted');
    if (!state.keys.delete(id)) throw new SwError(SW.FILE_NOT_FOUND);
  } else if (!state.files.delete(fid)) {
    throw new SwError(SW.FILE_NOT_FOUND);
  }
  if (ctx.session.currentEf === fid) delete ctx.session.currentEf;
  ctx.persist();
  return reply();
};
