/**
 * "Is this device genuine, and which device is it": the one reading of a card's EF 2F02 both
 * front ends report — `custodian card info` (cli/commands/card-info.ts) and the desktop card view
 * (core/desktop-backend/card-views.ts) only put it into their own words. The chain check itself is
 * shared/cvc's (docs/card-reference.md §5).
 * @module
 */
import { deviceIdOf, validateDeviceChain, type TrustAnchor } from '../shared/cvc/chain';

/** Why a device is not reported genuine: the chain check's code, or no EF 2F02 at all. */
export type NotGenuineCode =
  | Extract<ReturnType<typeof validateDeviceChain>, { genuine: false }>['code']
  | 'no-device-certificate';

/** The verdict on a card's device certificates. */
export type DeviceReport =
  | {
      readonly genuine: true;
      /** The device id: CHR of the device certificate (docs/card-reference.md §6.6). */
      readonly deviceId: string;
      /** The root the chain leads to; `source` says whether it is built in or configured. */
      readonly anchor: TrustAnchor;
      /** `/SRCA-holder/DICA-holder/device-holder` (docs/card-reference.md §5.1). */
      readonly path: string;
      readonly warnings: readonly string[];
    }
  | {
      readonly genuine: false;
      /** Still known when the first certificate is readable, e.g. when the DICA is missing. */
      readonly deviceId: string | undefined;
      readonly code: NotGenuineCode;
      /** Why, in words for the custodian. */
      readonly reason: string;
    };

/** Reads EF 2F02 (undefined or empty when the card has none) against the trust anchors. */
export function deviceReport(
  ef2f02: Uint8Array | undefined,
  anchors: readonly TrustAnchor[],
  now: Date,
): DeviceReport {
  if (ef2f02 === undefined || ef2f02.length === 0) {
    return {
      genuine: false,
      deviceId: undefined,
      code: 'no-device-certificate',
      reason: 'the card has no device certificate (EF 2F02)',
    };
  }
  const v = validateDeviceChain(ef2f02, anchors, now);
  if (v.genuine) {
    return {
      genuine: true,
      deviceId: v.deviceId,
      anchor: v.anchor,
      path: v.path,
      warnings: v.warnings,
    };
  }
  return {
    genuine: false,
    deviceId: v.chain?.device.body.chr ?? deviceIdOf(ef2f02),
    code: v.code,
    reason: v.message,
  };
}
