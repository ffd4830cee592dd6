/**
 * GENERATE ASYMMETRIC KEY PAIR `00 46` for EC keys and its answer, the authenticated request
 * (docs/card-reference.md §7).
 * @module
 */
import { command, type CommandApdu } from '../codec/apdu';
import { concatBytes, writeUint } from '../codec/bytes';
import { decodeTlv, encodeTlv } from '../codec/tlv';
import { err, ok, type Result } from '../result';
import { ALGO, CLA, INS } from './constants';
import { bigintToBytes, curveByName, type CurveName } from '../crypto/curves';
import { scHsmError, type ScHsmError } from './errors';
import { WHOLE_EF } from './files';
import { rsaKeyTemplate } from './rsa';

/** DER value of id-TA-ECDSA-SHA-256, 0.4.0.127.0.7.2.2.2.2.3 (docs/card-reference.md §4.3). */
export const OID_TA_ECDSA_SHA256 = Uint8Array.of(
  0x04,
  0x00,
  0x7f,
  0x00,
  0x07,
  0x02,
  0x02,
  0x02,
  0x02,
  0x03,
);

/** Parameters of an EC key generation. */
export type EcKeyGenParams = {
  /** Id of the new key, 1–255 (P1). */
  readonly keyId: number;
  /** Curve of the new key. */
  readonly curve: CurveName;
  /** CHR of the new key's request, 1–16 bytes (`5F20`); must be unique for PKA (docs/card-reference.md §6.2). */
  readonly chr: Uint8Array;
  /** Inner CAR (`42`), optional from firmware 2.0 on. */
  readonly innerCar?: Uint8Array;
  /** Outer CAR (`45`), optional. */
  readonly outerCar?: Uint8Array;
  /** Algorithms the key may be used with (`91`, ≤ 16 ids, docs/card-reference.md §8.3). */
  readonly algorithms?: readonly number[];
  /** Key use counter (`90`, 1..2³²−1). */
  readonly keyUseCounter?: number;
  /** Key domain index (`92`). */
  readonly keyDomain?: number;
  /** Id of the key making the outer signature (P2); 0 = device key, what all tools use. */
  readonly signingKeyId?: number;
};

const invalid = (message: string) => err(scHsmError('invalid-argument', message));
const validRef = (r: Uint8Array) => r.length >= 1 && r.length <= 16;

/** Algorithms a PKA custodian key needs: plain ECDSA with SHA-256 (docs/card-reference.md §6.2). */
export const PKA_KEY_ALGORITHMS: readonly number[] = [ALGO.ECDSA_SHA256];

/**
 * Builds `00 46 <keyId> <signingKeyId> <ext Lc> <template> 00 00` with the content of a CVC body:
 * `5F29 00`, `[42 CAR]`, `7F49 { 06 OID, 81 p, 82 a, 83 b, 84 G, 85 n, 87 h }`, `5F20 CHR`, then
 * `[45] [90] [91] [92]` metadata (docs/card-reference.md §7.1).
 */
export function generateEcKeyCommand(params: EcKeyGenParams): Result<CommandApdu, ScHsmError> {
  const curve = curveByName(params.curve);
  const d = curve.domain;
  const field = (v: bigint) => bigintToBytes(v, curve.fieldBytes);
  const publicKey = encodeTlv(
    0x7f49,
    encodeTlv(0x06, OID_TA_ECDSA_SHA256),
    encodeTlv(0x81, field(d.p)),
    encodeTlv(0x82, field(d.a)),
    encodeTlv(0x83, field(d.b)),
    encodeTlv(0x84, d.g),
    encodeTlv(0x85, bigintToBytes(d.n, curve.orderBytes)),
    encodeTlv(0x87, bigintToBytes(d.h, 1)),
  );
  return generateKeyCommand(params, publicKey);
}

/** Parameters of an RSA key generation: those of {@link EcKeyGenParams} with a size for a curve. */
export type RsaKeyGenParams = Omit<EcKeyGenParams, 'curve'> & {
  /** Key size in bits: 1024, 1536, 2048, 3072 or 4096 (docs/card-reference.md §15.6). */
  readonly bits: number;
  /** Public exponent (`82`), default 65537. */
  readonly exponent?: number;
};

/** Sizes the card offers for RSA keys (docs/card-reference.md §15.6). */
const CARD_RSA_SIZES: readonly number[] = [1024, 1536, 2048, 3072, 4096];

/**
 * Builds `00 46` for an RSA key: the template of {@link generateEcKeyCommand} with
 * `7F49 { 06 id-TA-RSA-v1-5-SHA-256, 82 e, 02 bits }` (docs/card-reference.md §7.1, §15.6).
 */
export function generateRsaKeyCommand(params: RsaKeyGenParams): Result<CommandApdu, ScHsmError> {
  if (!CARD_RSA_SIZES.includes(params.bits)) {
    return invalid(`RSA key size must be one of ${CARD_RSA_SIZES.join(', ')}`);
  }
  const e = params.exponent ?? 65537;
  if (!Number.isSafeInteger(e) || e < 3 || e % 2 === 0 || e > 0xffffffff) {
    return invalid('RSA public exponent must be odd, 3..2^32-1');
  }
  return generateKeyCommand(params, rsaKeyTemplate(params.bits, e));
}

/** The template around a `7F49` public key part, then the command (§7.1). */
function generateKeyCommand(
  params: Omit<EcKeyGenParams, 'curve'>,
  publicKey: Uint8Array,
): Result<CommandApdu, ScHsmError> {
  const { keyId, chr } = params;
  const signing = params.signingKeyId ?? 0;
  if (!Number.isInteger(keyId) || keyId < 1 || keyId > 255) return invalid('key id must be 1–255');
  if (!Number.isInteger(signing) || signing < 0 || signing > 255)
    return invalid('signing key id must be 0–255');
  if (!validRef(chr)) return invalid('CHR must be 1–16 bytes');
  if (params.innerCar && !validRef(params.innerCar)) return invalid('inner CAR must be 1–16 bytes');
  if (params.outerCar && !validRef(params.outerCar)) return invalid('outer CAR must be 1–16 bytes');
  const parts: Uint8Array[] = [encodeTlv(0x5f29, Uint8Array.of(0))];
  if (params.innerCar) parts.push(encodeTlv(0x42, params.innerCar));
  parts.push(publicKey, encodeTlv(0x5f20, chr));
  if (params.outerCar) parts.push(encodeTlv(0x45, params.outerCar));
  if (params.keyUseCounter !== undefined) {
    const c = params.keyUseCounter;
    if (!Number.isInteger(c) || c < 1 || c > 0xffffffff)
      return invalid('key use counter must be 1..2^32-1');
    parts.push(encodeTlv(0x90, writeUint(c, 4)));
  }
  if (params.algorithms !== undefined) {
    const a = params.algorithms;
    if (
      a.length === 0 ||
      a.length > 16 ||
      a.some((x) => !Number.isInteger(x) || x < 0 || x > 0xff)
    ) {
      return invalid('algorithm list must hold 1–16 algorithm ids');
    }
    parts.push(encodeTlv(0x91, Uint8Array.from(a)));
  }
  if (params.keyDomain !== undefined) {
    if (!Number.isInteger(params.keyDomain) || params.keyDomain < 0 || params.keyDomain > 255) {
      return invalid('key domain must be 0–255');
    }
    parts.push(encodeTlv(0x92, Uint8Array.of(params.keyDomain)));
  }
  return ok(
    command(CLA.ISO, INS.GENERATE_KEY_PAIR, keyId, signing, concatBytes(...parts), WHOLE_EF),
  );
}

/**
 * Checks the GENERATE answer is one authenticated request `67 { … }` and returns a copy of it
 * (docs/card-reference.md §7.2). Detailed parsing is the CVC module's job.
 */
export function parseGenerateKeyResponse(data: Uint8Array): Result<Uint8Array, ScHsmError> {
  const tlv = decodeTlv(data);
  if (!tlv.ok)
    return err(scHsmError('malformed-response', `key generation answer: ${tlv.error.message}`));
  if (tlv.value.tag !== 0x67) {
    return err(
      scHsmError(
        'malformed-response',
        'key generation answer is not an authenticated request (67)',
      ),
    );
  }
  return ok(data.slice());
}
