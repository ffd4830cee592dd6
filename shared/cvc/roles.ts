/**
 * Certificate roles in a device chain (docs/card-reference.md §4.1, §5.1). Every certificate of
 * the scheme carries a CHAT (`7F4C`): a role OID and rights whose two most significant bits
 * name the holder's role, as in BSI TR-03110: `11` root (CVCA), `10`/`01` issuing CA (DV, here
 * the DICA), `00` end entity (here the device). Genuine chains read `C0` / `80` / `00`
 * (SmartCard-HSM and Nitrokey HSM); Pico HSM chains use another role OID with the same bits.
 *
 * The signatures alone do not say which certificate is which: a root or a DICA verifies under
 * its issuer just as well as a device certificate does, so without these checks `[DICA ‖ root]`
 * or `[root ‖ root]` would pass as a "genuine device" whose CHR is a CA's.
 * @module
 */
import { bytesEqual } from '../codec/bytes';
import type { Cvc } from './cvc';

/** A role a certificate can hold in a chain. */
export type CvcRole = 'root' | 'dica' | 'device';

/** The role the CHAT of `cvc` declares, or why it declares none. */
export function declaredRole(cvc: Cvc): CvcRole | 'no-chat' {
  const chat = cvc.body.chat;
  const first = chat?.rights[0];
  if (chat === undefined || first === undefined) return 'no-chat';
  const bits = first >> 6;
  return bits === 3 ? 'root' : bits === 0 ? 'device' : 'dica';
}

const NAMES: Record<CvcRole, string> = {
  root: 'a root CA',
  dica: 'a device issuer CA (DICA)',
  device: 'a device certificate',
};

/**
 * Checks that `device` is a device certificate issued by `dica`, a DICA issued by the root
 * `root`: each declares its own role, the role OIDs agree (one scheme), and neither the device
 * nor the DICA is self-issued or carries the CHR of a certificate above it.
 * @returns a message naming the certificate at fault, or undefined when the roles are right
 */
export function chainRoleProblem(root: Cvc, dica: Cvc, device: Cvc): string | undefined {
  const expect: readonly [Cvc, CvcRole, string][] = [
    [dica, 'dica', 'DICA'],
    [device, 'device', 'device certificate'],
  ];
  for (const [cvc, role, position] of expect) {
    const declared = declaredRole(cvc);
    if (declared === 'no-chat') {
      return `${position} ${cvc.body.chr} carries no role (CHAT); a genuine chain always does`;
    }
    if (declared !== role) {
      return `${position} ${cvc.body.chr} is ${NAMES[declared]}, not ${NAMES[role]}`;
    }
    if (cvc.body.car === cvc.body.chr) {
      return `${position} ${cvc.body.chr} is self-issued; only a root may be`;
    }
  }
  const oid = dica.body.chat!.oid;
  if (!bytesEqual(device.body.chat!.oid, oid)) {
    return `device certificate ${device.body.chr} and DICA ${dica.body.chr} name different role schemes`;
  }
  if (root.body.chat !== undefined && !bytesEqual(root.body.chat.oid, oid)) {
    return `DICA ${dica.body.chr} and root ${root.body.chr} name different role schemes`;
  }
  const above = [root.body.chr, dica.body.chr];
  if (dica.body.chr === root.body.chr || above.includes(device.body.chr)) {
    return `device certificate ${device.body.chr} repeats the CHR of a CA above it`;
  }
  return undefined;
}
