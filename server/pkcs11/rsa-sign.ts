/**
 * RSA signing for PKCS#11 clients. Needs RSA on the target card (see docs/pkcs11.md); until the
 * card layer offers it, RSA mechanisms are refused with CKR_MECHANISM_INVALID.
 * @module
 */
import type { TargetService } from '../targets/target-service';
import { CKR, Pkcs11Refusal } from './ckr';
import type { KeyObjectInfo } from './key-objects';
import type { Mechanism } from './mechanisms';

/** Signs `data` with RSA key `key` for mechanism `m`. */
export function rsaSign(
  _t: TargetService,
  _key: KeyObjectInfo,
  m: Mechanism,
  _data: Uint8Array,
  _pss: { hashAlg: number; mgf: number; sLen: number } | undefined,
): Promise<{ signature: Uint8Array; digest: Uint8Array }> {
  return Promise.reject(new Pkcs11Refusal(CKR.MECHANISM_INVALID, `${m.name}: no RSA on this card`));
}
