/**
 * PKA files: what a custodian hands to the target's administrator to register a key
 * (docs/card-reference.md §6.2). Old format (sc-hsm-tool): `30 { 67 request, 7F21 device, 7F21 DICA }`.
 * New format (Smart Card Shell `.pka`): `30 { 06 1.3.6.1.4.1.24991.4.3.1, 61 { DICA },
 * 62 { device }, 63 { 67 request } }` — 61 = DICA and 62 = device follow OpenSC's code, which
 * docs/card-reference.md treats as authoritative (§13.14); a file with the two swapped is recognised by
 * the CAR/CHR links, accepted and reported in `warnings`.
 * @module
 */
import { bytesEqual, concatBytes } from '../codec/bytes';
import { decodeTlv, decodeTlvList, encodeTlv, type Tlv } from '../codec/tlv';
import {
  parseAuthenticatedRequest,
  parseCvc,
  type AuthenticatedRequest,
  type Cvc,
} from '../cvc/cvc';
import { OID_CC_PKA_FILE_FORMAT, oidToString } from '../cvc/oids';
import { err, ok, type Result } from '../result';

/** A parsed PKA file. Nothing is verified yet: validate `device ‖ dica` and the attestation. */
export type PkaFile = {
  request: AuthenticatedRequest;
  device: Cvc;
  dica: Cvc;
  format: 'old' | 'new';
  /** Tolerated irregularities (e.g. swapped 61/62); absent when there were none. */
  warnings?: string[];
};

/** Why a PKA file was rejected. */
export type PkaFileError = { code: 'malformed' | 'unsupported'; message: string };

const fail = (code: PkaFileError['code'], message: string): Result<never, PkaFileError> =>
  err({ code, message });

/** Largest PKA file accepted (a real one is about 1 KB). */
const MAX_PKA_FILE = 16 * 1024;

function cvcIn(tlv: Tlv, what: string): Result<Cvc, PkaFileError> {
  const r = parseCvc(tlv.raw);
  return r.ok ? r : fail('malformed', `${what}: ${r.error.message}`);
}

function requestIn(tlv: Tlv): Result<AuthenticatedRequest, PkaFileError> {
  const r = parseAuthenticatedRequest(tlv.raw);
  return r.ok ? r : fail('malformed', `authenticated request: ${r.error.message}`);
}

/** The single TLV inside a context wrapper such as `61 { 7F21 … }`. */
function unwrap(tlv: Tlv, what: string): Result<Tlv, PkaFileError> {
  const inner = decodeTlv(tlv.value);
  return inner.ok ? inner : fail('malformed', `${what}: ${inner.error.message}`);
}

/** Parses an old- or new-format PKA file. */
export function parsePkaFile(bytes: Uint8Array): Result<PkaFile, PkaFileError> {
  if (bytes.length > MAX_PKA_FILE)
    return fail('malformed', `PKA file larger than ${MAX_PKA_FILE} bytes`);
  const outer = decodeTlv(bytes.slice());
  if (!outer.ok) return fail('malformed', `PKA file: ${outer.error.message}`);
  if (outer.value.tag !== 0x30) return fail('malformed', 'PKA file must be a SEQUENCE (30)');
  const items = decodeTlvList(outer.value.value);
  if (!items.ok) return fail('malformed', `PKA file: ${items.error.message}`);
  const first = items.value[0];
  if (first?.tag === 0x67) return parseOld(items.value);
  if (first?.tag === 0x06) return parseNew(items.value);
  return fail('malformed', 'PKA file must start with a request (67) or a format OID (06)');
}

function parseOld(items: Tlv[]): Result<PkaFile, PkaFileError> {
  const [req, dev, dica] = items;
  if (items.length !== 3 || dev?.tag !== 0x7f21 || dica?.tag !== 0x7f21) {
    return fail('malformed', 'old PKA file must be 30 { 67 request, 7F21 device, 7F21 DICA }');
  }
  const request = requestIn(req!);
  if (!request.ok) return request;
  const device = cvcIn(dev, 'device certificate');
  if (!device.ok) return device;
  const dicaCvc = cvcIn(dica, 'DICA certificate');
  if (!dicaCvc.ok) return dicaCvc;
  return ok({
    request: request.value,
    device: device.value,
    dica: dicaCvc.value,
    format: 'old',
  });
}

function parseNew(items: Tlv[]): Result<PkaFile, PkaFileError> {
  const [oid, a, b, c] = items;
  if (items.length !== 4 || a?.tag !== 0x61 || b?.tag !== 0x62 || c?.tag !== 0x63) {
    return fail('malformed', 'new PKA file must be 30 { 06 OID, 61 DICA, 62 device, 63 request }');
  }
  if (!bytesEqual(oid!.value, OID_CC_PKA_FILE_FORMAT)) {
    return fail(
      'unsupported',
      `PKA file format ${oidToString(oid!.value)} (expected 1.3.6.1.4.1.24991.4.3.1)`,
    );
  }
  const parts: Cvc[] = [];
  for (const [tlv, what] of [
    [a, 'certificate in 61'],
    [b, 'certificate in 62'],
  ] as const) {
    const inner = unwrap(tlv, what);
    if (!inner.ok) return inner;
    const cvc = cvcIn(inner.value, what);
    if (!cvc.ok) return cvc;
    parts.push(cvc.value);
  }
  const reqTlv = unwrap(c, 'request in 63');
  if (!reqTlv.ok) return reqTlv;
  const request = requestIn(reqTlv.value);
  if (!request.ok) return request;
  let [dica, device] = parts as [Cvc, Cvc];
  // docs/card-reference.md §13.14: OpenSC's comment claims the opposite order; follow the issuer links.
  if (device.body.car !== dica.body.chr && dica.body.car === device.body.chr) {
    [dica, device] = [device, dica];
    const warnings = ['device certificate found in 61 and DICA in 62 (swapped); accepted'];
    return ok({ request: request.value, device, dica, format: 'new', warnings });
  }
  return ok({ request: request.value, device, dica, format: 'new' });
}

/** Encodes a PKA file in the new format (docs/card-reference.md §6.2). */
export function encodePkaFile(file: {
  request: AuthenticatedRequest;
  device: Cvc;
  dica: Cvc;
}): Uint8Array {
  return encodeTlv(
    0x30,
    encodeTlv(0x06, OID_CC_PKA_FILE_FORMAT),
    encodeTlv(0x61, file.dica.encoded),
    encodeTlv(0x62, file.device.encoded),
    encodeTlv(0x63, file.request.encoded),
  );
}

/** Encodes a PKA file in the old sc-hsm-tool format (for interoperability tests). */
export function encodeOldPkaFile(file: {
  request: AuthenticatedRequest;
  device: Cvc;
  dica: Cvc;
}): Uint8Array {
  return encodeTlv(0x30, file.request.encoded, file.device.encoded, file.dica.encoded);
}

/** The EF 2F02 form (device ‖ DICA) of the file's certificates, for `validateDeviceChain`. */
export function deviceCertificatesOf(file: { device: Cvc; dica: Cvc }): Uint8Array {
  return concatBytes(file.device.encoded, file.dica.encoded);
}
