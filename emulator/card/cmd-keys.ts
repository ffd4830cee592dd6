/**
 * GENERATE ASYMMETRIC KEY PAIR `00 46` with attested request (docs/card-reference.md §7): EC on
 * any curve of §15.1 and RSA of the sizes of §15.6. SIGN is in `cmd-sign.ts`.
 * @module
 */
import { bytesToAscii, isPrintableAscii, readUint } from '../../shared/codec/bytes';
import type { Tlv } from '../../shared/codec/tlv';
import { COMMAND_TLV, commandTlvs } from './command-tlv';
import { SW } from '../../shared/card/status-words';
import { curveByDomain, curveByName, generateKeyPair } from '../../shared/crypto/curves';
import { parsePublicKey, type CvcPublicKey } from '../../shared/cvc/cvc';
import { buildAuthenticatedRequest, encodeCvcBody, signCertificate } from '../../shared/cvc/encode';
import { hashForAlgorithmOid, isEcdsaAlgorithmOid, isRsaAlgorithmOid } from '../../shared/cvc/oids';
import { encodeTlv } from '../../shared/codec/tlv';
import { PREFIX } from '../../shared/sc-hsm/constants';
import type { CardContext, Handler } from './context';
import { generateRsaKey, rsaSelfSignature } from './rsa-key';
import { check, reply, SwError } from './reply';
import { isUserAuthenticated } from './session';
import { memoryFree, type KeyRecord } from './state';

/** Template tags accepted (docs/card-reference.md §7.1); CHAT/dates/extensions are tolerated and ignored. */
const TEMPLATE_TAGS = new Set([
  0x5f29, 0x42, 0x7f49, 0x5f20, 0x45, 0x90, 0x91, 0x92, 0x7f4c, 0x5f25, 0x5f24, 0x65,
]);
/** Memory a new key and its request need at least. */
const KEY_SPACE = 1024;

/** `6982` unless the user is authenticated (PIN or PKA quorum). */
export function requireUser(ctx: CardContext): void {
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
  check(cmd.data.length > 0, SW.WRONG_DATA, 'template missing');
  const tlvs = commandTlvs(cmd.data, 'template');
  for (const t of tlvs) check(TEMPLATE_TAGS.has(t.tag), SW.WRONG_DATA, 'unknown template tag');
  check(new Set(tlvs.map((t) => t.tag)).size === tlvs.length, SW.WRONG_DATA, 'duplicate tag');
  const pkValue = single(tlvs, 0x7f49);
  check(pkValue !== undefined, SW.WRONG_DATA, 'public key template 7F49 missing');
  const pk = parsePublicKey(pkValue, COMMAND_TLV);
  if (!pk.ok) {
    throw new SwError(pk.error.code === 'unsupported' ? SW.FUNCTION_NOT_SUPPORTED : SW.WRONG_DATA);
  }
  check(
    isEcdsaAlgorithmOid(pk.value.oid) || isRsaAlgorithmOid(pk.value.oid),
    SW.FUNCTION_NOT_SUPPORTED,
    'unknown key algorithm',
  );
  const chrValue = single(tlvs, 0x5f20);
  check(chrValue !== undefined, SW.WRONG_DATA, 'CHR 5F20 missing');
  const chr = referenceText(chrValue);
  const carValue = single(tlvs, 0x42);
  const car = carValue === undefined ? undefined : referenceText(carValue);
  const policy: { algorithms?: Uint8Array; useCounter?: number } = {};
  const counter = single(tlvs, 0x90);
  if (counter !== undefined) {
    check(counter.length >= 1 && counter.length <= 4, SW.WRONG_DATA, 'counter is 1–4 bytes');
    policy.useCounter = readUint(counter);
    check(policy.useCounter > 0, SW.WRONG_DATA, 'counter must be positive');
  }
  const algorithms = single(tlvs, 0x91);
  if (algorithms !== undefined) {
    check(algorithms.length >= 1 && algorithms.length <= 16, SW.WRONG_DATA, 'algorithm list');
    policy.algorithms = algorithms.slice();
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

  const generated = isRsaAlgorithmOid(pk.value.oid)
    ? generateRsa(pk.value, chr, car)
    : generateEc(pk.value, chr, car);
  const device = curveByName(state.identity.curve);
  const request = buildAuthenticatedRequest(
    generated.inner,
    bytesToAscii(state.identity.chr),
    device,
    state.identity.privateKey,
    'sha256',
  );
  state.keys.set(cmd.p1, { ...generated.record, ...policy });
  state.files.set((PREFIX.EE_CERT << 8) | cmd.p1, request);
  ctx.persist();
  return reply(request);
};

type Generated = { inner: Uint8Array; record: KeyRecord };

/** An EC key on the curve whose explicit domain parameters the template carries (§7.1). */
function generateEc(pk: CvcPublicKey, chr: string, car: string | undefined): Generated {
  check(isEcdsaAlgorithmOid(pk.oid), SW.FUNCTION_NOT_SUPPORTED, 'unknown key algorithm');
  check(pk.domain !== undefined && pk.point === undefined, SW.WRONG_DATA, 'EC domain');
  const curve = curveByDomain(pk.domain);
  check(curve !== undefined, SW.WRONG_DATA, 'unsupported curve');
  const keys = generateKeyPair(curve);
  const body = encodeCvcBody({
    ...(car === undefined ? {} : { car }),
    publicKey: { oid: pk.oid, domain: curve.domain, point: keys.publicKey },
    chr,
  });
  const inner = signCertificate(body, curve, keys.privateKey, hashForAlgorithmOid(pk.oid)!);
  return { inner, record: { curve: curve.name, ...keys } };
}

/**
 * An RSA key of the template's size (`02`) and exponent (`82`, docs/card-reference.md §7.1);
 * its request carries `81` modulus, `82` exponent and a self-signature made with the scheme of
 * the template's id-TA-RSA OID (§4.3).
 */
function generateRsa(pk: CvcPublicKey, chr: string, car: string | undefined): Generated {
  check(pk.keySize !== undefined && pk.modulus === undefined, SW.WRONG_DATA, 'RSA key size 02');
  check(
    pk.exponent !== undefined && pk.exponent.length >= 1 && pk.exponent.length <= 4,
    SW.WRONG_DATA,
    'RSA exponent 82',
  );
  const rsa = generateRsaKey(pk.keySize, readUint(pk.exponent));
  const body = encodeCvcBody({
    ...(car === undefined ? {} : { car }),
    publicKey: { oid: pk.oid, modulus: rsa.modulus, exponent: rsa.exponent },
    chr,
  });
  const inner = encodeTlv(0x7f21, body, encodeTlv(0x5f37, rsaSelfSignature(rsa, pk.oid, body)));
  return { inner, record: { rsa } };
}
