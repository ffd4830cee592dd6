/**
 * Status-word checking and EF access over a command channel, shared by the session's parts.
 * @module
 */
import type { CommandApdu, ResponseApdu } from '../../shared/codec/apdu';
import { concatBytes } from '../../shared/codec/bytes';
import { CardStatusError, SW } from '../../shared/card/status-words';
import { readBinaryCommand, updateBinaryCommands, WHOLE_EF } from '../../shared/sc-hsm/files';

/** What the session needs from a channel ({@link ApduChannel} fits). */
export type CommandSender = {
  send(cmd: CommandApdu): Promise<ResponseApdu>;
  /** Whether extended-length APDUs may be sent (docs/card-reference.md §1.4). */
  readonly extendedLength: boolean;
};

/**
 * Sends `cmd` and returns the response when its SW is one of `accept` (default `9000`); throws
 * {@link CardStatusError} naming `operation` otherwise.
 */
export async function transmit(
  channel: CommandSender,
  cmd: CommandApdu,
  operation: string,
  accept: readonly number[] = [SW.OK],
): Promise<ResponseApdu> {
  const resp = await channel.send(cmd);
  if (!accept.includes(resp.sw)) throw new CardStatusError(resp.sw, operation);
  return resp;
}

/** Short-APDU read size: Le `00` = 256 bytes (docs/card-reference.md §5.2). */
const SHORT_READ = 256;
/** Largest EF the odd READ BINARY can address (2-byte offset). */
const MAX_EF = 0x10000;

/**
 * Reads a whole EF with `00 B1`: one extended read where possible, else chunks of 256 bytes
 * with a growing offset until `6282`, a short answer or no data (docs/card-reference.md §5.2). At offsets > 0
 * an "offset beyond the end" answer (`6B00`/`6A86`) also ends the file. `6A82` → undefined.
 */
export async function readEf(
  channel: CommandSender,
  fid: number,
  operation: string,
): Promise<Uint8Array | undefined> {
  const ne = channel.extendedLength ? WHOLE_EF : SHORT_READ;
  const parts: Uint8Array[] = [];
  let offset = 0;
  while (offset < MAX_EF) {
    const resp = await channel.send(readBinaryCommand(fid, offset, ne));
    if (resp.sw === SW.FILE_NOT_FOUND && offset === 0) return undefined;
    const beyondEnd = offset > 0 && (resp.sw === SW.WRONG_P1P2 || resp.sw === SW.INCORRECT_P1P2);
    if (beyondEnd) break;
    if (resp.sw !== SW.OK && resp.sw !== SW.END_OF_FILE) {
      throw new CardStatusError(resp.sw, operation);
    }
    parts.push(resp.data);
    offset += resp.data.length;
    if (resp.sw === SW.END_OF_FILE || resp.data.length < ne || resp.data.length === 0) break;
  }
  return concatBytes(...parts);
}

/** Short-APDU UPDATE limit: data field ≤ 255 (chunk 248, docs/card-reference.md §1.4). */
const SHORT_MAX_APDU = 263;

/** Writes an EF with `00 D7` in chunks that fit the channel (docs/card-reference.md §1.4, §8.1). */
export async function writeEf(
  channel: CommandSender,
  fid: number,
  data: Uint8Array,
  operation: string,
): Promise<void> {
  const cmds = updateBinaryCommands(
    fid,
    data,
    channel.extendedLength ? {} : { maxApdu: SHORT_MAX_APDU },
  );
  if (!cmds.ok) throw new RangeError(cmds.error.message);
  for (const cmd of cmds.value) await transmit(channel, cmd, operation);
}
