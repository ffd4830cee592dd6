/**
 * Deny reasons of the firewall by class byte and by instruction (docs/card-reference.md §12.2), split from
 * firewall.ts to keep the allow logic short.
 * @module
 */
import { INS } from '../sc-hsm/constants';
import type { FirewallDecision } from './firewall';
import type { FirewallRuleId } from './firewall-rules';

/** Builds a deny decision for a rule with a reason. */
export type Deny = (rule: FirewallRuleId, reason: string) => FirewallDecision;

/** Two upper-case hex digits. */
export const hexByte = (b: number): string => b.toString(16).padStart(2, '0').toUpperCase();

/** Why a class byte other than 00/80 is refused (ISO/IEC 7816-4 §5.4.1 class byte coding). */
export function describeClass(cla: number): string {
  const parts: string[] = [];
  if (cla === 0xff) parts.push('invalid class');
  else if (cla >= 0x20 && cla < 0x40) parts.push('reserved class');
  else if (cla >= 0xa0) parts.push('other proprietary class');
  else {
    if (cla & 0x10) parts.push('command chaining');
    if (cla & 0x40) {
      // further interindustry class: SM in b6, logical channels 4–19
      if (cla & 0x20) parts.push('secure messaging');
      parts.push('logical channel');
    } else {
      if (cla & 0x0c) parts.push('secure messaging');
      if (cla & 0x03) parts.push('logical channel');
    }
  }
  if (parts.length === 0) parts.push('unexpected class');
  return `CLA ${hexByte(cla)} not allowed (${parts.join(', ')})`;
}

/** docs/card-reference.md §12.2: every other instruction, with the reason of its deny row. */
export function denyByInstruction(ins: number, no: Deny): FirewallDecision {
  const name = `instruction ${hexByte(ins)}`;
  switch (ins) {
    case INS.CHANGE_REFERENCE_DATA:
    case INS.RESET_RETRY_COUNTER:
    case INS.SESSION_PIN:
      return no('pin-management', `${name}: PIN change, unblock or session PIN`);
    case INS.INITIALIZE:
      return no('initialize', `${name}: INITIALIZE would wipe the device`);
    case INS.KEY_DOMAIN:
      return no('key-domain', `${name}: DKEK / key domain management`);
    case INS.WRAP_KEY:
    case INS.UNWRAP_KEY:
      return no('key-export', `${name}: key wrap/unwrap`);
    case INS.GENERATE_KEY_PAIR:
    case INS.GENERATE_SYMMETRIC_KEY:
    case INS.UPDATE_BINARY_ODD:
    case INS.DELETE_FILE:
      return no('key-store-write', `${name}: would overwrite or delete card objects`);
    case INS.DECIPHER:
    case INS.DERIVE_EC_KEY:
    case INS.CIPHER_SYMMETRIC:
      return no('crypto-oracle', `${name}: decipher/derive/cipher oracle`);
    case INS.MANAGE_PKA:
      return no('manage-pka', `${name}: MANAGE PKA of the custodian card`);
    case INS.MANAGE_SE:
    case INS.PSO:
    case INS.EXTERNAL_AUTHENTICATE:
      return no(
        'trust-store',
        `${name}: changes the trust store or authenticates to the custodian card`,
      );
    case INS.GENERAL_AUTHENTICATE:
      return no('secure-messaging', `${name}: secure messaging setup`);
    case INS.READ_BINARY:
      return no('read-binary-iso', `${name}: READ BINARY of the selected EF`);
    case INS.GET_RESPONSE:
      return no('get-response', `${name}: GET RESPONSE from the network`);
    default:
      return no('unknown-instruction', `${name} is not on the allowlist`);
  }
}
