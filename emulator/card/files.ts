/**
 * The emulated file system: fixed EF 2F02, object files by FID and the access rules
 * (docs/card-reference.md §2, §8.1): key objects `CCxx` are never readable, `CDxx` only when authenticated,
 * writes and deletes need an authenticated user, 2F02 is immutable.
 * @module
 */
import { SW } from '../../shared/card/status-words';
import { FID, PREFIX } from '../../shared/sc-hsm/constants';
import type { CardContext } from './context';
import { SwError } from './reply';
import { isUserAuthenticated } from './session';
import type { DeviceState } from './state';

/** Largest EF the emulator stores. */
export const MAX_FILE_SIZE = 0x7fff;

/** The prefix (high byte) of a FID. */
export const prefixOf = (fid: number): number => fid >> 8;

/** Contents of an EF, or undefined when it does not exist (keys are not files). */
export function fileContent(state: DeviceState, fid: number): Uint8Array | undefined {
  if (fid === FID.DEVICE_CERTIFICATES) return state.identity.certificates;
  return state.files.get(fid);
}

/** True when the FID names an existing key object `CCxx` (id 0 = device key). */
export function keyExists(state: DeviceState, fid: number): boolean {
  if (prefixOf(fid) !== PREFIX.KEY) return false;
  const id = fid & 0xff;
  return id === 0 || state.keys.has(id);
}

/** Checks read access and returns the content; throws 6982 / 6A82. */
export function readableContent(ctx: CardContext, fid: number): Uint8Array {
  if (prefixOf(fid) === PREFIX.KEY) {
    // Private keys never leave the card (docs/card-reference.md §8.1 B1 notes).
    throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'key objects are not readable');
  }
  const content = fileContent(ctx.state, fid);
  if (!content) throw new SwError(SW.FILE_NOT_FOUND, 'no such file');
  if (prefixOf(fid) === PREFIX.PROTECTED_DATA && !isUserAuthenticated(ctx.state, ctx.session)) {
    throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'protected data object');
  }
  return content;
}

/** Throws unless a user is authenticated and the FID is a writable/deletable object. */
export function checkWritable(ctx: CardContext, fid: number): void {
  if (!isUserAuthenticated(ctx.state, ctx.session)) {
    throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'user not authenticated');
  }
  if (fid === FID.DEVICE_CERTIFICATES || fid === 0x0000 || fid === 0x3f00 || fid === 0xffff) {
    throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'fixed file');
  }
}

/** Sorted FIDs for ENUMERATE OBJECTS: CC00, the keys, then all files (docs/card-reference.md §8.1). */
export function listObjects(state: DeviceState): number[] {
  const fids = [PREFIX.KEY << 8];
  for (const id of state.keys.keys()) fids.push((PREFIX.KEY << 8) | id);
  for (const fid of state.files.keys()) fids.push(fid);
  return fids.sort((a, b) => a - b);
}
