/**
 * Key operations: listing key objects and signing a PKA challenge; generation is in
 * `key-generation.ts` (re-exported here) (docs/card-reference.md §2, §6.2, §6.6, §7).
 * @module
 */
import { bytesToAscii } from '../../shared/codec/bytes';
import { curveByDomain, type Curve } from '../../shared/crypto/curves';
import { verifyPlain } from '../../shared/crypto/ecdsa';
import {
  parseAuthenticatedRequest,
  parseCvc,
  type AuthenticatedRequest,
} from '../../shared/cvc/cvc';
import { CardStatusError } from '../../shared/card/status-words';
import { ALGO, PREFIX } from '../../shared/sc-hsm/constants';
import { enumerateObjectsCommand, objectFid, parseObjectList } from '../../shared/sc-hsm/files';
import { buildPkaSignatureInput } from '../../shared/sc-hsm/pka-input';
import { parsePrkd } from '../../shared/sc-hsm/prkd';
import { parseEcdsaSignature, signCommand } from '../../shared/sc-hsm/sign';
import { readEf, transmit, type CommandSender } from './card-io';
import type { KeyInfo } from './types';

/** A key operation that cannot proceed (no free id, CHR clash, unusable key, bad card answer). */
export class KeyOperationError extends Error {
  override readonly name = 'KeyOperationError';
}

/** Lists the FIDs of all objects (docs/card-reference.md §8.1 ENUMERATE OBJECTS). */
export async function listObjects(channel: CommandSender): Promise<number[]> {
  const resp = await transmit(channel, enumerateObjectsCommand(), 'ENUMERATE OBJECTS');
  const fids = parseObjectList(resp.data);
  if (!fids.ok) throw new KeyOperationError(fids.error.message);
  return fids.value;
}

/** What `CE<id>` holds, reduced to what a listing needs. */
type CeContent = {
  chr?: Uint8Array;
  request?: AuthenticatedRequest;
  curve?: Curve;
  /** RSA modulus size in bits, when the request/CVC carries an RSA key. */
  rsaBits?: number;
};

/** Bits of an RSA modulus (leading zero bytes ignored). */
function modulusBits(modulus: Uint8Array | undefined): number | undefined {
  if (!modulus) return undefined;
  let i = 0;
  while (i < modulus.length && modulus[i] === 0) i++;
  return i === modulus.length ? undefined : (modulus.length - i) * 8;
}

/** The curve of a request's EC key, when its domain parameters are known. */
export function curveOf(request: AuthenticatedRequest): Curve | undefined {
  const domain = request.inner.body.publicKey.domain;
  return domain ? curveByDomain(domain) : undefined;
}

function describeCe(data: Uint8Array): CeContent {
  if (data[0] === 0x67) {
    const req = parseAuthenticatedRequest(data);
    if (!req.ok) return {};
    const curve = curveOf(req.value);
    const rsaBits = modulusBits(req.value.inner.body.publicKey.modulus);
    return {
      chr: req.value.inner.body.chrBytes,
      request: req.value,
      ...(curve ? { curve } : {}),
      ...(rsaBits ? { rsaBits } : {}),
    };
  }
  if (data[0] === 0x7f) {
    const cvc = parseCvc(data);
    if (cvc.ok) {
      const rsaBits = modulusBits(cvc.value.body.publicKey.modulus);
      return { chr: cvc.value.body.chrBytes, ...(rsaBits ? { rsaBits } : {}) };
    }
  }
  return {}; // an X.509 certificate or something else: no CHR to show
}

/**
 * Lists key objects `CC01`–`CCFF` with label (PRKD `C4<id>`), CHR and curve (`CE<id>`), skipping
 * the device key `CC00` (docs/card-reference.md §2.2, §2.3). Unreadable descriptions are left out, not fatal.
 */
export async function listKeys(channel: CommandSender): Promise<KeyInfo[]> {
  const fids = new Set(await listObjects(channel));
  const out: KeyInfo[] = [];
  for (const fid of [...fids].sort((a, b) => a - b)) {
    if (fid >> 8 !== PREFIX.KEY || (fid & 0xff) === 0) continue;
    const id = fid & 0xff;
    let info: { -readonly [K in keyof KeyInfo]: KeyInfo[K] } = { id, hasRequest: false };
    if (fids.has(objectFid(PREFIX.PRKD, id))) {
      const raw = await readEf(
        channel,
        objectFid(PREFIX.PRKD, id),
        `READ BINARY PRKD of key ${id}`,
      );
      const prkd = raw ? parsePrkd(raw) : undefined;
      if (prkd?.ok) {
        if (prkd.value.label !== undefined) info.label = prkd.value.label;
        if (prkd.value.size !== undefined) info.size = prkd.value.size;
      }
    }
    // Some implementations leave CE<id> out of ENUMERATE OBJECTS although it is readable; like
    // OpenSC, read it directly then, and treat a refusal as "no request".
    const listed = fids.has(objectFid(PREFIX.EE_CERT, id));
    const raw = await readEf(
      channel,
      objectFid(PREFIX.EE_CERT, id),
      `READ BINARY CE of key ${id}`,
    ).catch((e: unknown) => {
      if (listed || !(e instanceof CardStatusError)) throw e;
      return undefined;
    });
    if (raw !== undefined) {
      const ce = describeCe(raw);
      if (ce.chr) info = { ...info, chrBytes: ce.chr, chr: bytesToAscii(ce.chr) };
      if (ce.curve) {
        info = { ...info, type: 'ec', curve: ce.curve.name };
        info.size ??= 8 * ce.curve.fieldBytes;
      }
      if (ce.rsaBits) info = { ...info, type: 'rsa', size: ce.rsaBits };
      info.hasRequest = ce.request !== undefined;
    }
    out.push(info);
  }
  return out;
}

/**
 * The CHR of key `keyId`, read from `CE<id>` alone with one READ BINARY where the channel sends
 * extended length (docs/card-reference.md §2.3, §7.2); undefined when the card holds no
 * request or CVC for the id. Used where only one known key matters (an approval checks the
 * offered key, not the whole card: issue 12 §2).
 */
export async function keyChrOf(channel: CommandSender, keyId: number): Promise<string | undefined> {
  const raw = await readEf(
    channel,
    objectFid(PREFIX.EE_CERT, keyId),
    `READ BINARY CE of key ${keyId}`,
  );
  const chr = raw === undefined ? undefined : describeCe(raw).chr;
  return chr === undefined ? undefined : bytesToAscii(chr);
}

/** Reads and parses the authenticated request of key `keyId` from `CE<id>` (docs/card-reference.md §7.2). */
export async function readKeyRequest(
  channel: CommandSender,
  keyId: number,
): Promise<AuthenticatedRequest> {
  const raw = await readEf(
    channel,
    objectFid(PREFIX.EE_CERT, keyId),
    `READ BINARY CE of key ${keyId}`,
  );
  if (!raw)
    throw new KeyOperationError(
      `key ${keyId} has no request/certificate (CE${keyId.toString(16)})`,
    );
  const req = parseAuthenticatedRequest(raw);
  if (!req.ok)
    throw new KeyOperationError(
      `key ${keyId}: CE object is not an authenticated request (${req.error.message})`,
    );
  return req.value;
}

export { generateCustodianKey, generateEcKey, type CustodianKeyOptions } from './key-generation';

/**
 * Signs `CHR(target) ‖ challenge` with key `keyId` using ECDSA-SHA-256 on the card and returns
 * plain r‖s, checked against the key's public key before it leaves (docs/card-reference.md §6.6 steps 3–5).
 */
export async function signPkaChallenge(
  channel: CommandSender,
  keyId: number,
  targetChr: Uint8Array,
  challenge: Uint8Array,
): Promise<Uint8Array> {
  const request = await readKeyRequest(channel, keyId);
  const curve = curveOf(request);
  const point = request.inner.body.publicKey.point;
  if (!curve || !point)
    throw new KeyOperationError(`key ${keyId} is not an EC key with known domain parameters`);
  const input = buildPkaSignatureInput(targetChr, challenge);
  const cmd = signCommand(keyId, ALGO.ECDSA_SHA256, input);
  if (!cmd.ok) throw new KeyOperationError(cmd.error.message);
  const resp = await transmit(channel, cmd.value, `SIGN with key ${keyId}`);
  const plain = parseEcdsaSignature(resp.data, curve.orderBytes);
  if (!plain.ok) throw new KeyOperationError(plain.error.message);
  if (!verifyPlain(curve, point, input, plain.value, 'sha256')) {
    throw new KeyOperationError(
      `the card's signature does not verify with key ${keyId}'s public key`,
    );
  }
  return plain.value;
}
