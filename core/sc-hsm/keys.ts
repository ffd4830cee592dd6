/**
 * Key operations: listing key objects, generating EC keys with a unique CHR (the PKA custodian
 * key among them), and signing a PKA challenge (docs/card-reference.md §2, §6.2, §6.6, §7).
 * @module
 */
import { asciiBytes, bytesToAscii, isPrintableAscii } from '../../shared/codec/bytes';
import { curveByDomain, type Curve, type CurveName } from '../../shared/crypto/curves';
import { verifyPlain } from '../../shared/crypto/ecdsa';
import {
  parseAuthenticatedRequest,
  parseCvc,
  type AuthenticatedRequest,
} from '../../shared/cvc/cvc';
import { ALGO, PREFIX } from '../../shared/sc-hsm/constants';
import { enumerateObjectsCommand, objectFid, parseObjectList } from '../../shared/sc-hsm/files';
import {
  generateEcKeyCommand,
  parseGenerateKeyResponse,
  PKA_KEY_ALGORITHMS,
} from '../../shared/sc-hsm/keygen';
import { buildPkaSignatureInput } from '../../shared/sc-hsm/pka-input';
import { encodePrkd, parsePrkd } from '../../shared/sc-hsm/prkd';
import { parseEcdsaSignature, signCommand } from '../../shared/sc-hsm/sign';
import { readEf, transmit, writeEf, type CommandSender } from './card-io';
import { loadDeviceChain } from './device-chain';
import type { GeneratedKey, KeyInfo } from './types';

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
type CeContent = { chr?: Uint8Array; request?: AuthenticatedRequest; curve?: Curve };

function curveOf(request: AuthenticatedRequest): Curve | undefined {
  const domain = request.inner.body.publicKey.domain;
  return domain ? curveByDomain(domain) : undefined;
}

function describeCe(data: Uint8Array): CeContent {
  if (data[0] === 0x67) {
    const req = parseAuthenticatedRequest(data);
    if (!req.ok) return {};
    const curve = curveOf(req.value);
    return { chr: req.value.inner.body.chrBytes, request: req.value, ...(curve ? { curve } : {}) };
  }
  if (data[0] === 0x7f) {
    const cvc = parseCvc(data);
    if (cvc.ok) return { chr: cvc.value.body.chrBytes };
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
    if (fids.has(objectFid(PREFIX.EE_CERT, id))) {
      const raw = await readEf(
        channel,
        objectFid(PREFIX.EE_CERT, id),
        `READ BINARY CE of key ${id}`,
      );
      const ce = raw ? describeCe(raw) : {};
      if (ce.chr) info = { ...info, chrBytes: ce.chr, chr: bytesToAscii(ce.chr) };
      if (ce.curve)
        info = { ...info, curve: ce.curve.name, size: info.size ?? 8 * ce.curve.fieldBytes };
      info.hasRequest = ce.request !== undefined;
    }
    out.push(info);
  }
  return out;
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

/** Sequence numbers are 5 decimal digits (docs/card-reference.md §4.1). */
const MAX_SEQUENCE = 99999;
/** Only 256-bit keys authenticate reliably (docs/card-reference.md §6.2). */
const CUSTODIAN_CURVE: CurveName = 'brainpoolP256r1';

/** Options of {@link generateCustodianKey}. */
export type CustodianKeyOptions = {
  /** Label written to the PRKD. */
  readonly label: string;
  /** CHR to use; default device holder + the first unused 5-digit sequence number. */
  readonly chr?: string;
};

/** Options of {@link generateEcKey}. */
export type EcKeyOptions = CustodianKeyOptions & {
  /** Curve of the new key. */
  readonly curve: CurveName;
  /** The only algorithms the card will use the key with (`91`, docs/card-reference.md §7.1, §8.3). */
  readonly algorithms: readonly number[];
};

/**
 * Generates a brainpoolP256r1 key that may only do ECDSA-SHA-256, with a CHR unique on this
 * device, stores a PRKD with the label and returns the authenticated request (docs/card-reference.md §6.2,
 * §7). Requires the user to be authenticated (the card answers `6982` otherwise).
 */
export function generateCustodianKey(
  channel: CommandSender,
  options: CustodianKeyOptions,
): Promise<GeneratedKey> {
  return generateEcKey(channel, {
    ...options,
    curve: CUSTODIAN_CURVE,
    algorithms: PKA_KEY_ALGORITHMS,
  });
}

/**
 * Generates an EC key in the first free id with a CHR unique on this device (the given one, or
 * device holder + the first unused sequence number), restricted to `algorithms`, checks the
 * card's request names that CHR, and writes a PRKD with the label (docs/card-reference.md §4.1, §7).
 */
export async function generateEcKey(
  channel: CommandSender,
  options: EcKeyOptions,
): Promise<GeneratedKey> {
  const chain = await loadDeviceChain(channel);
  const keys = await listKeys(channel);
  const used = new Set(keys.flatMap((k) => (k.chr === undefined ? [] : [k.chr])));
  used.add(chain.device.body.chr);
  let chr = options.chr;
  if (chr !== undefined) {
    const bytes = asciiBytesOrUndefined(chr);
    if (!bytes || bytes.length < 1 || bytes.length > 16 || !isPrintableAscii(bytes)) {
      throw new KeyOperationError('CHR must be 1–16 printable ASCII characters');
    }
    if (used.has(chr)) throw new KeyOperationError(`CHR ${chr} is already used on this device`);
  } else {
    // docs/card-reference.md §4.1: holder = device CHR without its 5-digit sequence number.
    const holder = chain.device.body.chr.slice(0, -5);
    for (let seq = 1; seq <= MAX_SEQUENCE && chr === undefined; seq++) {
      const candidate = holder + String(seq).padStart(5, '0');
      if (!used.has(candidate)) chr = candidate;
    }
    if (chr === undefined) throw new KeyOperationError('no unused CHR sequence number left');
  }
  const present = new Set(keys.map((k) => k.id));
  let keyId = 0;
  for (let id = 1; id <= 255 && keyId === 0; id++) if (!present.has(id)) keyId = id;
  if (keyId === 0) throw new KeyOperationError('no free key id (1–255) on the card');

  const cmd = generateEcKeyCommand({
    keyId,
    curve: options.curve,
    chr: asciiBytes(chr),
    algorithms: options.algorithms,
  });
  if (!cmd.ok) throw new KeyOperationError(cmd.error.message);
  const resp = await transmit(channel, cmd.value, 'GENERATE ASYMMETRIC KEY PAIR');
  // Short-APDU cards may answer without data; the request is also stored in CE<id> (§7.2).
  const raw =
    resp.data.length > 0
      ? resp.data
      : await readEf(channel, objectFid(PREFIX.EE_CERT, keyId), 'READ BINARY CE');
  const request = parseGenerateKeyResponse(raw ?? new Uint8Array(0));
  if (!request.ok) throw new KeyOperationError(request.error.message);
  const parsed = parseAuthenticatedRequest(request.value);
  const curve = parsed.ok ? curveOf(parsed.value) : undefined;
  if (!parsed.ok || parsed.value.inner.body.chr !== chr || curve?.name !== options.curve) {
    throw new KeyOperationError(
      'the card returned a request that does not match the generated key',
    );
  }
  const prkd = encodePrkd({
    label: options.label,
    id: Uint8Array.of(keyId),
    size: 8 * curve.fieldBytes,
  });
  await writeEf(channel, objectFid(PREFIX.PRKD, keyId), prkd, 'UPDATE BINARY PRKD');
  return { keyId, chr, request: request.value };
}

function asciiBytesOrUndefined(text: string): Uint8Array | undefined {
  try {
    return asciiBytes(text);
  } catch {
    return undefined;
  }
}

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
