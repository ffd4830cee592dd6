/**
 * Parser for card-verifiable certificates (`7F21`) and authenticated requests (`67`) in the
 * SmartCard-HSM profile of BSI TR-03110 (docs/card-reference.md §4.1, §7.2). Pure and strict: exactly the
 * tags of the profile, in order, each at most once; nothing is verified here (see verify.ts).
 * Parsed values are copies, never views into the caller's buffer.
 * @module
 */
import { bytesToAscii, isPrintableAscii } from '../codec/bytes';
import { decodeTlv, decodeTlvAt, encodeTlv, type Tlv } from '../codec/tlv';
import { err, ok, type Result } from '../result';
import { decodeCvcDate, type CvcDate } from './date';
import { orderedChildren, parsePublicKey, type CvcError, type CvcPublicKey } from './public-key';

export { parsePublicKey, type CvcError, type CvcPublicKey } from './public-key';

/** The certificate body `7F4E`. */
export type CvcBody = {
  /** Certificate profile identifier (`5F29`), always 0 in this profile. */
  cpi: number;
  /** Certification authority reference (`42`); optional in requests (docs/card-reference.md §7.1). */
  car?: string;
  publicKey: CvcPublicKey;
  /** Certificate holder reference (`5F20`) as text. */
  chr: string;
  /** The raw CHR bytes (what the PKA signature input uses, docs/card-reference.md §6.6). */
  chrBytes: Uint8Array;
  /** Certificate holder authorisation (`7F4C`): role OID and rights. */
  chat?: { oid: Uint8Array; rights: Uint8Array };
  effective?: CvcDate;
  expiration?: CvcDate;
  /** Value of the extensions object `65`, kept raw. */
  extensions?: Uint8Array;
};

/** A parsed `7F21` certificate. */
export type Cvc = {
  body: CvcBody;
  /** The complete `7F4E` TLV: the bytes the signature covers (docs/card-reference.md §4.2). */
  bodyTlv: Uint8Array;
  /** `5F37` value: plain r‖s for ECDSA. */
  signature: Uint8Array;
  /** The complete `7F21` TLV. */
  encoded: Uint8Array;
};

/** A parsed authenticated request `67 { 7F21, 42, 5F37 }` (docs/card-reference.md §4.1, §7.2). */
export type AuthenticatedRequest = {
  /** The self-signed inner request. */
  inner: Cvc;
  /** Outer CAR: CHR of the key that made the outer signature (the device key). */
  outerCar: string;
  /** The complete outer `42` TLV (part of the outer signature input, docs/card-reference.md §4.2). */
  outerCarTlv: Uint8Array;
  outerSignature: Uint8Array;
  /** The complete `67` TLV. */
  encoded: Uint8Array;
  /** The value of `67`: the data of MANAGE PKA `80 54` (docs/card-reference.md §6.4). */
  content: Uint8Array;
};

const fail = (code: CvcError['code'], message: string): Result<never, CvcError> =>
  err({ code, message });

const BODY_ORDER = [0x5f29, 0x42, 0x7f49, 0x5f20, 0x7f4c, 0x5f25, 0x5f24, 0x65] as const;

/** Validates a CAR/CHR: printable ASCII, 1–16 bytes (real ones are 8–16, docs/card-reference.md §4.1). */
function reference(tlv: Tlv, what: string): Result<string, CvcError> {
  const v = tlv.value;
  if (v.length < 1 || v.length > 16 || !isPrintableAscii(v)) {
    return fail('structure', `${what} must be 1–16 printable ASCII characters`);
  }
  return ok(bytesToAscii(v));
}

function date(tlv: Tlv | undefined, what: string): Result<CvcDate | undefined, CvcError> {
  if (!tlv) return ok(undefined);
  const d = decodeCvcDate(tlv.value);
  return d.ok ? d : fail('structure', `${what}: ${d.error.message}`);
}

function parseBody(bodyTlv: Tlv): Result<CvcBody, CvcError> {
  const m = orderedChildren(bodyTlv.value, BODY_ORDER, 'certificate body');
  if (!m.ok) return m;
  const t = m.value;
  const cpiTlv = t.get(0x5f29);
  if (!cpiTlv) return fail('structure', 'certificate body: profile identifier (5F29) missing');
  if (cpiTlv.value.length !== 1) return fail('structure', 'profile identifier must be one byte');
  if (cpiTlv.value[0] !== 0) {
    return fail('unsupported', `certificate profile ${cpiTlv.value[0]} (only 0 is defined)`);
  }
  const pkTlv = t.get(0x7f49);
  if (!pkTlv) return fail('structure', 'certificate body: public key (7F49) missing');
  const publicKey = parsePublicKey(pkTlv.value);
  if (!publicKey.ok) return publicKey;
  const chrTlv = t.get(0x5f20);
  if (!chrTlv) return fail('structure', 'certificate body: CHR (5F20) missing');
  const chr = reference(chrTlv, 'CHR');
  if (!chr.ok) return chr;
  const body: CvcBody = {
    cpi: 0,
    publicKey: publicKey.value,
    chr: chr.value,
    chrBytes: chrTlv.value.slice(),
  };
  const carTlv = t.get(0x42);
  if (carTlv) {
    const car = reference(carTlv, 'CAR');
    if (!car.ok) return car;
    body.car = car.value;
  }
  const chatTlv = t.get(0x7f4c);
  if (chatTlv) {
    const c = orderedChildren(chatTlv.value, [0x06, 0x53], 'CHAT');
    if (!c.ok) return c;
    const oid = c.value.get(0x06);
    const rights = c.value.get(0x53);
    if (!oid || !rights) return fail('structure', 'CHAT needs a role OID (06) and rights (53)');
    body.chat = { oid: oid.value.slice(), rights: rights.value.slice() };
  }
  const effective = date(t.get(0x5f25), 'effective date');
  if (!effective.ok) return effective;
  const expiration = date(t.get(0x5f24), 'expiration date');
  if (!expiration.ok) return expiration;
  if (effective.value) body.effective = effective.value;
  if (expiration.value) body.expiration = expiration.value;
  const ext = t.get(0x65);
  if (ext) body.extensions = ext.value.slice();
  return ok(body);
}

/** Parses a `7F21` TLV (already decoded from a private copy of the input). */
function parseCvcTlv(tlv: Tlv): Result<Cvc, CvcError> {
  if (tlv.tag !== 0x7f21) {
    return fail(
      'structure',
      `expected a CV certificate (7F21), found tag ${tlv.tag.toString(16).toUpperCase()}`,
    );
  }
  const m = orderedChildren(tlv.value, [0x7f4e, 0x5f37], 'CV certificate');
  if (!m.ok) return m;
  const bodyTlv = m.value.get(0x7f4e);
  const sigTlv = m.value.get(0x5f37);
  if (!bodyTlv || !sigTlv)
    return fail('structure', 'CV certificate needs a body (7F4E) and a signature (5F37)');
  if (sigTlv.value.length === 0) return fail('structure', 'empty signature');
  const body = parseBody(bodyTlv);
  if (!body.ok) return body;
  return ok({ body: body.value, bodyTlv: bodyTlv.raw, signature: sigTlv.value, encoded: tlv.raw });
}

/** Parses the CVC whose `7F21` starts at `offset`; `end` is the offset just past it. */
export function parseCvcAt(
  bytes: Uint8Array,
  offset: number,
): Result<{ cvc: Cvc; end: number }, CvcError> {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > bytes.length) {
    return fail('structure', `offset ${offset} outside the input`);
  }
  const outer = decodeTlvAt(bytes, offset);
  if (!outer.ok) return fail('tlv', `CV certificate: ${outer.error.message}`);
  // Work on a private copy so later changes to the caller's buffer cannot alter a parsed CVC.
  const copy = decodeTlv(outer.value.raw.slice());
  if (!copy.ok) return fail('tlv', copy.error.message);
  const cvc = parseCvcTlv(copy.value);
  return cvc.ok ? ok({ cvc: cvc.value, end: outer.value.end }) : cvc;
}

/** Parses exactly one `7F21` CV certificate (no trailing bytes). */
export function parseCvc(bytes: Uint8Array): Result<Cvc, CvcError> {
  const r = parseCvcAt(bytes, 0);
  if (!r.ok) return r;
  if (r.value.end !== bytes.length) {
    return fail('structure', `${bytes.length - r.value.end} bytes after the CV certificate`);
  }
  return ok(r.value.cvc);
}

/**
 * Parses the value of a `67` authenticated request, as sent in `80 54` (docs/card-reference.md §6.4):
 * `7F21` inner request, `42` outer CAR, `5F37` outer signature, nothing else.
 */
export function parseAuthenticatedRequestContent(
  content: Uint8Array,
): Result<AuthenticatedRequest, CvcError> {
  if (content.length > 0xffff) return fail('tlv', 'authenticated request too long');
  return parseRequestTlv(decodeTlv(encodeTlv(0x67, content)));
}

/** Parses a complete `67` authenticated request TLV (no trailing bytes). */
export function parseAuthenticatedRequest(
  bytes: Uint8Array,
): Result<AuthenticatedRequest, CvcError> {
  return parseRequestTlv(decodeTlv(bytes.slice()));
}

function parseRequestTlv(
  outer: ReturnType<typeof decodeTlv>,
): Result<AuthenticatedRequest, CvcError> {
  if (!outer.ok) return fail('tlv', `authenticated request: ${outer.error.message}`);
  const tlv = outer.value;
  if (tlv.tag !== 0x67) {
    return fail(
      'structure',
      `expected an authenticated request (67), found tag ${tlv.tag.toString(16).toUpperCase()}`,
    );
  }
  const m = orderedChildren(tlv.value, [0x7f21, 0x42, 0x5f37], 'authenticated request');
  if (!m.ok) return m;
  const innerTlv = m.value.get(0x7f21);
  const carTlv = m.value.get(0x42);
  const sigTlv = m.value.get(0x5f37);
  if (!innerTlv || !carTlv || !sigTlv) {
    return fail('structure', 'authenticated request needs 7F21, 42 and 5F37');
  }
  const inner = parseCvcTlv(innerTlv);
  if (!inner.ok) return fail(inner.error.code, `inner request: ${inner.error.message}`);
  const outerCar = reference(carTlv, 'outer CAR');
  if (!outerCar.ok) return outerCar;
  if (sigTlv.value.length === 0) return fail('structure', 'empty outer signature');
  return ok({
    inner: inner.value,
    outerCar: outerCar.value,
    outerCarTlv: carTlv.raw,
    outerSignature: sigTlv.value,
    encoded: tlv.raw,
    content: tlv.value,
  });
}
