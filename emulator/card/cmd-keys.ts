/**
 * GENERATE ASYMMETRIC KEY PAIR `00 46` with attested request (docs/card-reference.md §7) and SIGN `80 68`
 * (docs/card-reference.md §6.6 step 4, §8.3). EC only; RSA requests get `6A81`.
 * @module
 */
import { bytesToAscii, isPrintableAscii, readUint } from '../../shared/codec/bytes';
import { decodeTlvList, type Tlv } from '../../shared/codec/tlv';
import { SW } from '../../shared/card/status-words';
import { curveByDomain, curveByName, generateKeyPair } from '../../shared/crypto/curves';
import { plainToDer, signDigestPlain, signPlain, type HashName } from '../../shared/crypto/ecdsa';
import { parsePublicKey } from '../../shared/cvc/cvc';
import { buildAuthenticatedRequest, encodeCvcBody, signCertificate } from '../../shared/cvc/encode';
import { hashForAlgorithmOid, isEcdsaAlgorithmOid } from '../../shared/cvc/oids';
import { ALGO, PREFIX } from '../../shared/sc-hsm/constants';
import type { CardContext, Handler } from './context';
import { check, reply, SwError } from './reply';
import { isUserAuthenticated } from './session';
import { memoryFree, type KeyRecord } from './state';

/** Template tags accepted (docs/card-reference.md §7.1); CHAT/dates/extensions are tolerated and ignored. */
const TEMPLATE_TAGS = new Set([
  0x5f29, 0x42, 0x7f49, 0x5f20, 0x45, 0x90, 0x91, 0x92, 0x7f4c, 0x5f25, 0x5f24, 0x65,
]);
/** Memory a new key and its request need at least. */
const KEY_SPACE = 1024;

/** ECDSA algorithm ids → the hash the card applies (docs/card-reference.md §8.3); 70 = caller hashed. */
const EC_SIGN: ReadonlyMap<number, HashName | undefined> = new Map([
  [ALGO.ECDSA_PREHASHED, undefined],
  [ALGO.ECDSA_SHA1, 'sha1'],
  [ALGO.ECDSA_SHA224, 'sha224'],
  [ALGO.ECDSA_SHA256, 'sha256'],
  [ALGO.ECDSA_SHA384, 'sha384'],
  [ALGO.ECDSA_SHA512, 'sha512'],
]);

function requireUser(ctx: CardContext): void {
  check(isUserAuthenticated(ctx.state, ctx.session), SW.SECURITY_STATUS_NOT_SATISFIED, 'log in');
}

function single(tlvs: readonly Tlv[], tag: number): Uint8Array | undefined {
  return tlvs.find((t) => t.tag === tag)?.value;
}

/** A CAR/CHR from the template: 1–16 printable ASCII bytes. */
function referenceText(v: Uint8Array): string {
  check(v.length >= 1 && v.length <= 16 && isPrintableAscii(v), SW.WRONG_DATA, 'bad reference');
  return bytesToAscii(v);
}

/**
 * `00 46 <kid> 00 <template>`: generates an EC key, returns the authenticated request
 * `67 { 7F21 self-signed, 42 device CHR, 5F37 device signature }` and stores it in `CE<kid>`
 * (docs/card-reference.md §7.2). Needs an authenticated user; overwrites an existing key id.
 */
export const generateKeyPairCmd: Handler = (ctx, cmd) => {
  const { state } = ctx;
  requireUser(ctx);
  check(cmd.p1 >= 1 && cmd.p1 <= 255 && cmd.p2 === 0x00, SW.INCORRECT_P1P2, 'kid 1–255, P2 00');
  check(
    !state.dkek || state.dkek.outstanding === 0,
    SW.CONDITIONS_NOT_SATISFIED,
    'DKEK shares outstanding',
  );
  const parsed = decodeTlvList(cmd.data);
  check(parsed.ok && cmd.data.length > 0, SW.WRONG_DATA, 'template is not a TLV list');
  const tlvs = parsed.value;
  for (const t of tlvs) check(TEMPLATE_TAGS.has(t.tag), SW.WRONG_DATA, 'unknown template tag');
  check(new Set(tlvs.map((t) => t.tag)).size === tlvs.length, SW.WRONG_DATA, 'duplicate tag');
  const pkValue = single(tlvs, 0x7f49);
  check(pkValue !== undefined, SW.WRONG_DATA, 'public key template 7F49 missing');
  const pk = parsePublicKey(pkValue);
  if (!pk.ok) {
    throw new SwError(pk.error.code === 'unsupported' ? SW.FUNCTION_NOT_SUPPORTED : SW.WRONG_DATA);
  }
  check(isEcdsaAlgorithmOid(pk.value.oid), SW.FUNCTION_NOT_SUPPORTED, 'only EC keys');
  check(pk.value.domain !== undefined && pk.value.point === undefined, SW.WRONG_DATA, 'EC domain');
  const curve = curveByDomain(pk.value.domain);
  check(curve !== undefined, SW.WRONG_DATA, 'unsupported curve');
  const hash = hashForAlgorithmOid(pk.value.oid)!;
  const chrValue = single(tlvs, 0x5f20);
  check(chrValue !== undefined, SW.WRONG_DATA, 'CHR 5F20 missing');
  const chr = referenceText(chrValue);
  const carValue = single(tlvs, 0x42);
  const car = carValue === undefined ? undefined : referenceText(carValue);
  const record: Omit<KeyRecord, 'privateKey' | 'publicKey'> = { curve: curve.name };
  const counter = single(tlvs, 0x90);
  if (counter !== undefined) {
    check(counter.length >= 1 && counter.length <= 4, SW.WRONG_DATA, 'counter is 1–4 bytes');
    record.useCounter = readUint(counter);
    check(record.useCounter > 0, SW.WRONG_DATA, 'counter must be positive');
  }
  const algorithms = single(tlvs, 0x91);
  if (algorithms !== undefined) {
    check(algorithms.length >= 1 && algorithms.length <= 16, SW.WRONG_DATA, 'algorithm list');
    record.algorithms = algorithms.slice();
  }
  const domain = single(tlvs, 0x92);
  if (domain !== undefined) {
    check(
      domain.length === 1 && domain[0]! < Math.max(1, state.keyDomains),
      SW.WRONG_DATA,
      'key domain',
    );
  }
  check(memoryFree(state) >= KEY_SPACE, SW.NOT_ENOUGH_MEMORY, 'memory full');

  const keys = generateKeyPair(curve);
  const body = encodeCvcBody({
    ...(car === undefined ? {} : { car }),
    publicKey: { oid: pk.value.oid, domain: curve.domain, point: keys.publicKey },
    chr,
  });
  const inner = signCertificate(body, curve, keys.privateKey, hash);
  const device = curveByName(state.identity.curve);
  const request = buildAuthenticatedRequest(
    inner,
    bytesToAscii(state.identity.chr),
    device,
    state.identity.privateKey,
    'sha256',
  );
  state.keys.set(cmd.p1, { ...record, privateKey: keys.privateKey, publicKey: keys.publicKey });
  state.files.set((PREFIX.EE_CERT << 8) | cmd.p1, request);
  ctx.persist();
  return reply(request);
};

/**
 * `80 68 <kid> <algo> <data>`: ECDSA, DER result (docs/card-reference.md §6.6 step 4). `6982` not
 * authenticated, `6A88` no such key, `6A81` algorithm not allowed (incl. the device key),
 * `6984` use counter exhausted, `6A80` bad hash length for `70`.
 */
export const sign: Handler = (ctx, cmd) => {
  const { state } = ctx;
  requireUser(ctx);
  // The device key only signs attestations; never a general-purpose oracle.
  check(cmd.p1 !== 0, SW.FUNCTION_NOT_SUPPORTED, 'device key cannot sign');
  const key = state.keys.get(cmd.p1);
  if (!key) throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'no such key');
  check(EC_SIGN.has(cmd.p2), SW.FUNCTION_NOT_SUPPORTED, 'algorithm not supported');
  check(
    !key.algorithms || key.algorithms.includes(cmd.p2),
    SW.FUNCTION_NOT_SUPPORTED,
    'not allowed',
  );
  check(key.useCounter === undefined || key.useCounter > 0, SW.DATA_INVALID, 'counter exhausted');
  const curve = curveByName(key.curve);
  const hash = EC_SIGN.get(cmd.p2);
  let plain: Uint8Array;
  if (hash === undefined) {
    check(cmd.data.length >= 1 && cmd.data.length <= 64, SW.WRONG_DATA, 'hash length');
    plain = signDigestPlain(curve, key.privateKey, cmd.data);
  } else {
    plain = signPlain(curve, key.privateKey, cmd.data, hash);
  }
  if (key.useCounter !== undefined) {
    key.useCounter -= 1;
    ctx.persist();
  }
  return reply(plainToDer(plain));
};
