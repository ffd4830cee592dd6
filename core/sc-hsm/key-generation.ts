/**
 * Key generation on the card: a CHR unique on the device, the first free key id, the card's
 * attested request checked against what was asked, and a PRKD with the label (docs/card-reference.md
 * §4.1, §6.2, §7). EC keys here; RSA in `rsa-keys.ts` on the same {@link generateKeyObject}.
 * @module
 */
import type { CommandApdu } from '../../shared/codec/apdu';
import { asciiBytes, isPrintableAscii } from '../../shared/codec/bytes';
import type { CurveName } from '../../shared/crypto/curves';
import { parseAuthenticatedRequest, type AuthenticatedRequest } from '../../shared/cvc/cvc';
import type { Result } from '../../shared/result';
import { PREFIX } from '../../shared/sc-hsm/constants';
import type { ScHsmError } from '../../shared/sc-hsm/errors';
import { objectFid } from '../../shared/sc-hsm/files';
import {
  generateEcKeyCommand,
  parseGenerateKeyResponse,
  PKA_KEY_ALGORITHMS,
} from '../../shared/sc-hsm/keygen';
import { encodePrkd } from '../../shared/sc-hsm/prkd';
import { readEf, transmit, writeEf, type CommandSender } from './card-io';
import { loadDeviceChain } from './device-chain';
import { curveOf, KeyOperationError, listKeys } from './keys';
import type { GeneratedKey } from './types';

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
  return generateKeyObject(
    channel,
    options,
    (keyId, chr) =>
      generateEcKeyCommand({ keyId, curve: options.curve, chr, algorithms: options.algorithms }),
    (request) => {
      const curve = curveOf(request);
      return curve?.name === options.curve ? 8 * curve.fieldBytes : undefined;
    },
  );
}

/**
 * The common part of key generation: a unique CHR, the first free id, the command `build`
 * makes, the card's request (answer or `CE<id>`), `sizeOf` checking it is the key asked for
 * (its size in bits, undefined = not it), and the PRKD (docs/card-reference.md §7).
 */
export async function generateKeyObject(
  channel: CommandSender,
  options: CustodianKeyOptions & { readonly kind?: 'ec' | 'rsa' },
  build: (keyId: number, chr: Uint8Array) => Result<CommandApdu, ScHsmError>,
  sizeOf: (request: AuthenticatedRequest) => number | undefined,
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

  const cmd = build(keyId, asciiBytes(chr));
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
  const size = parsed.ok ? sizeOf(parsed.value) : undefined;
  if (!parsed.ok || parsed.value.inner.body.chr !== chr || size === undefined) {
    throw new KeyOperationError(
      'the card returned a request that does not match the generated key',
    );
  }
  const prkd = encodePrkd({
    kind: options.kind ?? 'ec',
    label: options.label,
    id: Uint8Array.of(keyId),
    size,
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
