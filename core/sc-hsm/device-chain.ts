/**
 * Reading EF 2F02 (device CVC ‖ DICA CVC) and taking the device id from it (docs/card-reference.md §5.1,
 * §5.2, §6.6 step 3).
 * @module
 */
import type { Cvc } from '../../shared/cvc/cvc';
import { splitDeviceCertificates } from '../../shared/cvc/chain';
import { FID } from '../../shared/sc-hsm/constants';
import { readEf, type CommandSender } from './card-io';

/** The two certificates of EF 2F02. */
export type DeviceCertificates = {
  readonly device: Cvc;
  readonly dica: Cvc;
  readonly encoded: Uint8Array;
};

/** A card whose EF 2F02 is missing or not `device ‖ DICA`. */
export class DeviceChainError extends Error {
  override readonly name = 'DeviceChainError';
}

/** Reads EF 2F02; undefined when the card has none. */
export function readDeviceChain(channel: CommandSender): Promise<Uint8Array | undefined> {
  return readEf(channel, FID.DEVICE_CERTIFICATES, 'READ BINARY 2F02 (device certificates)');
}

/**
 * Splits EF 2F02 into the device certificate (first TLV, length from its header) and the DICA
 * (the rest), as CardContact's scripts do (docs/card-reference.md §5.2).
 * @throws DeviceChainError when the content is not exactly two CV certificates
 */
export function parseDeviceChain(ef: Uint8Array): DeviceCertificates {
  const split = splitDeviceCertificates(ef);
  if (!split.ok) throw new DeviceChainError(`EF 2F02: ${split.error.message}`);
  return { ...split.value, encoded: ef.slice() };
}

/**
 * Reads and splits EF 2F02.
 * @throws DeviceChainError when the card has no 2F02 or it is malformed
 */
export async function loadDeviceChain(channel: CommandSender): Promise<DeviceCertificates> {
  const ef = await readDeviceChain(channel);
  if (!ef || ef.length === 0)
    throw new DeviceChainError('the card has no device certificate (EF 2F02)');
  return parseDeviceChain(ef);
}
