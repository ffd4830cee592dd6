/**
 * Export of a custodian key for registration at a target: the `.pka` file (docs/card-reference.md §6.2).
 * @module
 */
import { encodePkaFile } from '../../shared/pka/pka-file';
import type { CommandSender } from './card-io';
import { loadDeviceChain } from './device-chain';
import { readKeyRequest } from './keys';

/**
 * Builds the `.pka` file (new format) of key `keyId`: the authenticated request from `CE<id>`,
 * the device certificate and the DICA from EF 2F02 (docs/card-reference.md §6.2).
 */
export async function exportPka(channel: CommandSender, keyId: number): Promise<Uint8Array> {
  const request = await readKeyRequest(channel, keyId);
  const chain = await loadDeviceChain(channel);
  return encodePkaFile({ request, device: chain.device, dica: chain.dica });
}
