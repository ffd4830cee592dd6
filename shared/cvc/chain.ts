/**
 * Device certificate chain validation: is this a genuine SmartCard-HSM? (docs/card-reference.md §5).
 * EF 2F02 holds device CVC ‖ DICA CVC; the DICA is issued by a scheme root (SRCA) that must be
 * a trust anchor; DICA and device inherit the SRCA's domain parameters (docs/card-reference.md §5.1, §5.3).
 * @module
 */
import { bytesEqual, fromHex } from '../codec/bytes';
import { err, ok, type Result } from '../result';
import { parseCvc, parseCvcAt, type Cvc } from './cvc';
import { compareCvcDate, cvcDateFromDate, formatCvcDate } from './date';
import { chainRoleProblem } from './roles';
import { DESRCACC100001_HEX } from './roots';
import { keyOf, verifyCvc, verifySelfSigned, type VerificationKey } from './verify';

export { verifyKeyAttestation, type AttestedKey } from './attestation';

/** A trusted scheme root. Built-in: the production SRCA; configured: e.g. a test SRCA. */
export type TrustAnchor = { cvc: Cvc; source: 'built-in' | 'configured'; label: string };

/** Why certificates could not be used as an anchor or split into a device chain. */
export type ChainError = {
  code: 'malformed' | 'not-self-signed' | 'unsupported-key' | 'conflicts-with-built-in';
  message: string;
};

/** CHR of the production scheme root (docs/card-reference.md §5.3). */
export const PRODUCTION_ROOT_CHR = 'DESRCACC100001';

let production: TrustAnchor | undefined;

/** The built-in production SRCA DESRCACC100001 (reference appendix A). */
export function productionAnchor(): TrustAnchor {
  if (!production) {
    const r = parseCvc(fromHex(DESRCACC100001_HEX));
    if (!r.ok || !verifySelfSigned(r.value)) throw new Error('built-in production root is corrupt');
    production = { cvc: r.value, source: 'built-in', label: `${PRODUCTION_ROOT_CHR} (production)` };
  }
  return production;
}

/**
 * A configured trust anchor from a `7F21` certificate: it must parse, have CAR = CHR, carry its
 * own domain parameters on a supported curve and verify self-signed. A certificate that calls
 * itself DESRCACC100001 but is not the built-in one is refused, so a configured root can never
 * pass for the production root. Dates are checked when a chain is validated.
 */
export function anchorFromCvc(bytes: Uint8Array, label: string): Result<TrustAnchor, ChainError> {
  const r = parseCvc(bytes);
  if (!r.ok) return err({ code: 'malformed', message: `trust anchor: ${r.error.message}` });
  const { body } = r.value;
  if (body.car !== body.chr) {
    return err({
      code: 'not-self-signed',
      message: `trust anchor ${body.chr} is issued by ${body.car ?? '(no CAR)'}, not by itself`,
    });
  }
  if (
    body.chr === PRODUCTION_ROOT_CHR &&
    !bytesEqual(r.value.encoded, productionAnchor().cvc.encoded)
  ) {
    return err({
      code: 'conflicts-with-built-in',
      message: `trust anchor claims to be ${PRODUCTION_ROOT_CHR} but differs from the built-in production root`,
    });
  }
  const key = keyOf(r.value);
  if (!key.ok) {
    return err({
      code: key.error.code === 'unsupported' ? 'unsupported-key' : 'malformed',
      message: `trust anchor: ${key.error.message}`,
    });
  }
  if (!verifyCvc(r.value, key.value)) {
    return err({
      code: 'not-self-signed',
      message: `trust anchor ${body.chr}: self-signature invalid`,
    });
  }
  return ok({ cvc: r.value, source: 'configured', label });
}

/** The two certificates of EF 2F02. */
export type DeviceChain = { device: Cvc; dica: Cvc };

/**
 * Splits EF 2F02 into device certificate and DICA (docs/card-reference.md §5.2: the first TLV's length gives
 * the split). Zero padding after the DICA is tolerated; any other trailing byte is an error.
 */
export function splitDeviceCertificates(ef2f02: Uint8Array): Result<DeviceChain, ChainError> {
  const device = parseCvcAt(ef2f02, 0);
  if (!device.ok)
    return err({ code: 'malformed', message: `device certificate: ${device.error.message}` });
  if (device.value.end >= ef2f02.length) {
    return err({
      code: 'malformed',
      message: 'DICA certificate missing after the device certificate',
    });
  }
  const dica = parseCvcAt(ef2f02, device.value.end);
  if (!dica.ok)
    return err({ code: 'malformed', message: `DICA certificate: ${dica.error.message}` });
  for (let i = dica.value.end; i < ef2f02.length; i++) {
    if (ef2f02[i] !== 0) {
      return err({
        code: 'malformed',
        message: `unexpected byte at offset ${i} after the DICA certificate`,
      });
    }
  }
  return ok({ device: device.value.cvc, dica: dica.value.cvc });
}

/**
 * The device id: the CHR of the first certificate in EF 2F02 (docs/card-reference.md §6.6), read
 * even when the DICA after it is missing or broken — a device certificate alone still names its
 * device (§5.2), though the chain cannot be checked. Undefined when even the first CVC is unreadable.
 */
export function deviceIdOf(ef2f02: Uint8Array | undefined): string | undefined {
  if (ef2f02 === undefined || ef2f02.length === 0) return undefined;
  const first = parseCvcAt(ef2f02, 0);
  return first.ok ? first.value.cvc.body.chr : undefined;
}

/** Outcome of {@link validateDeviceChain}. */
export type ChainVerdict =
  | {
      genuine: true;
      anchor: TrustAnchor;
      chain: DeviceChain;
      /** Device CHR (the device id bound into PKA signatures, docs/card-reference.md §6.6). */
      deviceId: string;
      deviceIdBytes: Uint8Array;
      /** `/SRCA-holder/DICA-holder/device-holder` (docs/card-reference.md §5.1). */
      path: string;
      deviceKey: VerificationKey;
      warnings: string[];
    }
  | {
      genuine: false;
      code:
        | 'malformed'
        | 'unknown-root'
        | 'issuer-mismatch'
        | 'bad-dica-signature'
        | 'bad-device-signature'
        | 'wrong-role'
        | 'unsupported-key'
        | 'expired'
        | 'not-yet-valid';
      message: string;
      chain?: DeviceChain;
    };

type Failure = Extract<ChainVerdict, { genuine: false }>;

/** The holder part of a CHR: without the 5-character sequence number (docs/card-reference.md §4.1). */
function holderOf(chr: string): string {
  return chr.length > 5 ? chr.slice(0, -5) : chr;
}

function dateProblem(cvc: Cvc, role: string, now: Date): Failure | undefined {
  const today = cvcDateFromDate(now);
  const { effective, expiration, chr } = cvc.body;
  if (expiration && compareCvcDate(expiration, today) < 0) {
    return {
      genuine: false,
      code: 'expired',
      message: `${role} ${chr} expired on ${formatCvcDate(expiration)}`,
    };
  }
  if (effective && compareCvcDate(effective, today) > 0) {
    return {
      genuine: false,
      code: 'not-yet-valid',
      message: `${role} ${chr} is valid only from ${formatCvcDate(effective)}`,
    };
  }
  return undefined;
}

/**
 * Validates EF 2F02 against trust anchors (docs/card-reference.md §5.3 algorithm): the DICA's CAR names an
 * anchor, the anchor key (with its domain parameters) verifies the DICA, the DICA key (domain
 * inherited) verifies the device certificate, each certificate holds the role of its position
 * (device, DICA; see roles.ts), and every certificate is within its validity
 * dates at `now` (UTC calendar days, both ends inclusive). Failures name the certificates
 * involved.
 * @throws Error only when `now` is an invalid Date (a programming error)
 */
export function validateDeviceChain(
  ef2f02: Uint8Array,
  anchors: readonly TrustAnchor[],
  now: Date = new Date(),
): ChainVerdict {
  // An invalid clock would make every date comparison false and so skip the validity check.
  if (Number.isNaN(now.getTime())) throw new Error('validateDeviceChain: invalid current time');
  const split = splitDeviceCertificates(ef2f02);
  if (!split.ok) return { genuine: false, code: 'malformed', message: split.error.message };
  const chain = split.value;
  const { device, dica } = chain;
  const fail = (code: Failure['code'], message: string): Failure => ({
    genuine: false,
    code,
    message,
    chain,
  });
  if (dica.body.car === undefined) return fail('malformed', `DICA ${dica.body.chr} has no CAR`);
  if (device.body.car !== dica.body.chr) {
    return fail(
      'issuer-mismatch',
      `device certificate ${device.body.chr} names issuer ${device.body.car ?? '(none)'}, but the DICA is ${dica.body.chr}`,
    );
  }
  const candidates = anchors.filter((a) => a.cvc.body.chr === dica.body.car);
  if (candidates.length === 0) {
    const known = anchors.map((a) => a.cvc.body.chr).join(', ') || 'none';
    return fail(
      'unknown-root',
      `DICA ${dica.body.chr} is issued by ${dica.body.car}, which is not a trusted root (trusted: ${known})`,
    );
  }
  let last: Failure | undefined;
  for (const anchor of candidates) {
    const verdict = validateWith(anchor, chain, now);
    if (verdict.genuine) return verdict;
    last = verdict;
  }
  return last!;
}

function validateWith(anchor: TrustAnchor, chain: DeviceChain, now: Date): ChainVerdict {
  const { device, dica } = chain;
  const fail = (code: Failure['code'], message: string): Failure => ({
    genuine: false,
    code,
    message,
    chain,
  });
  const keyFail = (e: { code: string; message: string }): Failure =>
    fail(e.code === 'unsupported' ? 'unsupported-key' : 'malformed', e.message);
  const rootKey = keyOf(anchor.cvc);
  if (!rootKey.ok) return keyFail(rootKey.error);
  const dicaKey = keyOf(dica, rootKey.value.curve.domain);
  if (!dicaKey.ok) return keyFail(dicaKey.error);
  if (!verifyCvc(dica, rootKey.value)) {
    return fail(
      'bad-dica-signature',
      `DICA ${dica.body.chr}: signature by root ${anchor.cvc.body.chr} is invalid`,
    );
  }
  const deviceKey = keyOf(device, dicaKey.value.curve.domain);
  if (!deviceKey.ok) return keyFail(deviceKey.error);
  if (!verifyCvc(device, dicaKey.value)) {
    return fail(
      'bad-device-signature',
      `device certificate ${device.body.chr}: signature by DICA ${dica.body.chr} is invalid`,
    );
  }
  // Signatures do not say which certificate is which: a CA verifies under its issuer as well as
  // a device does, so the device must declare a device role and the DICA a DICA role (roles.ts).
  const roleProblem = chainRoleProblem(anchor.cvc, dica, device);
  if (roleProblem !== undefined) return fail('wrong-role', roleProblem);
  for (const [cvc, role] of [
    [anchor.cvc, 'root'],
    [dica, 'DICA'],
    [device, 'device certificate'],
  ] as const) {
    const problem = dateProblem(cvc, role, now);
    if (problem) return { ...problem, chain };
  }
  const warnings: string[] = [];
  for (const [cvc, role] of [
    [dica, 'DICA'],
    [device, 'device certificate'],
  ] as const) {
    const n = cvc.body.chrBytes.length;
    if (n < 8) warnings.push(`${role} CHR ${cvc.body.chr} is ${n} characters (expected 8–16)`);
    if (cvc.body.publicKey.domain)
      warnings.push(`${role} ${cvc.body.chr} carries its own domain parameters`);
  }
  return {
    genuine: true,
    anchor,
    chain,
    deviceId: device.body.chr,
    deviceIdBytes: device.body.chrBytes,
    path: `/${holderOf(anchor.cvc.body.chr)}/${holderOf(dica.body.chr)}/${holderOf(device.body.chr)}`,
    deviceKey: deviceKey.value,
    warnings,
  };
}
