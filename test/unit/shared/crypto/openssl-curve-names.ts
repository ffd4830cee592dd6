/**
 * OpenSSL's names of our curves, so tests can cross-check @noble against Node's independent
 * implementation (and openssl's command line in the OpenSC conformance tests).
 */
import type { CurveName } from '../../../../shared/crypto/curves';

/** OpenSSL curve name of each {@link CurveName}. */
export const OPENSSL_CURVE_NAME: Readonly<Record<CurveName, string>> = {
  brainpoolP256r1: 'brainpoolP256r1',
  brainpoolP384r1: 'brainpoolP384r1',
  brainpoolP512r1: 'brainpoolP512r1',
  secp256r1: 'prime256v1',
  secp384r1: 'secp384r1',
  secp521r1: 'secp521r1',
  secp256k1: 'secp256k1',
  secp192r1: 'prime192v1',
  secp192k1: 'secp192k1',
  brainpoolP192r1: 'brainpoolP192r1',
  brainpoolP224r1: 'brainpoolP224r1',
  brainpoolP320r1: 'brainpoolP320r1',
  brainpoolP192t1: 'brainpoolP192t1',
  brainpoolP224t1: 'brainpoolP224t1',
  brainpoolP256t1: 'brainpoolP256t1',
  brainpoolP320t1: 'brainpoolP320t1',
  brainpoolP384t1: 'brainpoolP384t1',
  brainpoolP512t1: 'brainpoolP512t1',
};
