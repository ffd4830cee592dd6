/**
 * SIGN `80 68 <kid> <algorithm> <data>` (docs/card-reference.md §8.1, §8.3): ECDSA answers DER,
 * RSA the signature of modulus length. `6982` not authenticated, `6A88` no such key, `6A81`
 * algorithm not of the key's type, not in its `91` list, unknown, or the device key; `6984` use
 * counter exhausted; `6A80` data of a length the algorithm cannot take.
 * @module
 */
import { SW } from '../../shared/card/status-words';
import { curveByName } from '../../shared/crypto/curves';
import { plainToDer, signDigestPlain, signPlain, type HashName } from '../../shared/crypto/ecdsa';
import { ALGO } from '../../shared/sc-hsm/constants';
import { requireUser } from './cmd-keys';
import type { Handler } from './context';
import { check, reply, SwError } from './reply';
import { isRsaSignAlgorithm, rsaSign } from './rsa-key';
import type { EcKeyRecord } from './state';

/** ECDSA algorithm ids → the hash the card applies (§8.3); `70` = caller hashed. */
const EC_SIGN: ReadonlyMap<number, HashName | undefined> = new Map([
  [ALGO.ECDSA_PREHASHED, undefined],
  [ALGO.ECDSA_SHA1, 'sha1'],
  [ALGO.ECDSA_SHA224, 'sha224'],
  [ALGO.ECDSA_SHA256, 'sha256'],
  [ALGO.ECDSA_SHA384, 'sha384'],
  [ALGO.ECDSA_SHA512, 'sha512'],
]);

function ecdsa(key: EcKeyRecord, algorithm: number, data: Uint8Array): Uint8Array {
  const curve = curveByName(key.curve);
  const hash = EC_SIGN.get(algorithm);
  if (hash !== undefined) return plainToDer(signPlain(curve, key.privateKey, data, hash));
  check(data.length >= 1 && data.length <= 64, SW.WRONG_DATA, 'hash length');
  return plainToDer(signDigestPlain(curve, key.privateKey, data));
}

/** `80 68`: signs with key P1 using algorithm P2. */
export const sign: Handler = (ctx, cmd) => {
  const { state } = ctx;
  requireUser(ctx);
  // The device key only signs attestations; never a general-purpose oracle.
  check(cmd.p1 !== 0, SW.FUNCTION_NOT_SUPPORTED, 'device key cannot sign');
  const key = state.keys.get(cmd.p1);
  if (!key) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'no such key');
  const fits = key.rsa ? isRsaSignAlgorithm(cmd.p2) : EC_SIGN.has(cmd.p2);
  check(fits, SW.FUNCTION_NOT_SUPPORTED, 'algorithm not supported for this key type');
  check(
    !key.algorithms || key.algorithms.includes(cmd.p2),
    SW.FUNCTION_NOT_SUPPORTED,
    'not allowed',
  );
  check(key.useCounter === undefined || key.useCounter > 0, SW.DATA_INVALID, 'counter exhausted');
  const signature = key.rsa ? rsaSign(key.rsa, cmd.p2, cmd.data) : ecdsa(key, cmd.p2, cmd.data);
  if (key.useCounter !== undefined) {
    key.useCounter -= 1;
    ctx.persist();
  }
  return reply(signature);
};
