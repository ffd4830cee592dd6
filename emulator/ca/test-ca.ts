/**
 * The emulator's test PKI (docs/card-reference.md §5, §10 "Device identity"): a self-signed root (SRCA, full
 * brainpoolP256r1 domain parameters, SmartCard-HSM role CHAT like the real roots), a device
 * issuer (DICA) and device certificates issued by it. Deliberately NOT the CardContact test root
 * `UTSRCACC100001`: nothing here must be mistaken for CardContact's PKI.
 * @module
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { concatBytes } from '../../shared/codec/bytes';
import { curveByName, generateKeyPair, type CurveName } from '../../shared/crypto/curves';
import { cvcDateFromDate, type CvcDate } from '../../shared/cvc/date';
import { encodeCvcBody, signCertificate } from '../../shared/cvc/encode';
import { ID_TA_ECDSA_SHA_256, OID_CC_ROLE_SC_HSM } from '../../shared/cvc/oids';

/** Curve of the whole test chain (the real SRCAs use brainpoolP256r1, docs/card-reference.md §5.3). */
export const CA_CURVE: CurveName = 'brainpoolP256r1';
/** CHR of the test root. */
export const TEST_ROOT_CHR = 'UTCUSTSRCA00001';
/** CHR of the test device issuer. */
export const TEST_DICA_CHR = 'UTCUSTDICA00001';

/** One CA of the test PKI with its private key. */
export type CaEntity = { chr: string; privateKey: Uint8Array; cvc: Uint8Array };

/** The test PKI: root and device issuer. */
export type TestCa = { curve: CurveName; root: CaEntity; dica: CaEntity };

/** A device identity as issued: PrK.DevAut and EF 2F02 (device CVC ‖ DICA CVC). */
export type IssuedDevice = {
  curve: CurveName;
  privateKey: Uint8Array;
  chr: string;
  certificates: Uint8Array;
};

const yearsFrom = (d: CvcDate, years: number): CvcDate => ({
  year: Math.min(2099, d.year + years),
  month: d.month,
  day: d.month === 2 && d.day === 29 ? 28 : d.day,
});

/** Generates a fresh test root and DICA in memory. */
export function generateTestCa(now: Date = new Date()): TestCa {
  const curve = curveByName(CA_CURVE);
  const today = cvcDateFromDate(now);
  const rootKey = generateKeyPair(curve);
  // Root: self-signed, explicit domain parameters, role CHAT C0 as the real SRCAs (docs/card-reference.md §4.1).
  const rootBody = encodeCvcBody({
    car: TEST_ROOT_CHR,
    publicKey: { oid: ID_TA_ECDSA_SHA_256, domain: curve.domain, point: rootKey.publicKey },
    chr: TEST_ROOT_CHR,
    chat: { oid: OID_CC_ROLE_SC_HSM, rights: Uint8Array.of(0xc0) },
    effective: today,
    expiration: yearsFrom(today, 30),
  });
  const dicaKey = generateKeyPair(curve);
  // DICA: point only, domain inherited from the root (docs/card-reference.md §5.1).
  const dicaBody = encodeCvcBody({
    car: TEST_ROOT_CHR,
    publicKey: { oid: ID_TA_ECDSA_SHA_256, point: dicaKey.publicKey },
    chr: TEST_DICA_CHR,
    chat: { oid: OID_CC_ROLE_SC_HSM, rights: Uint8Array.of(0x80) },
    effective: today,
    expiration: yearsFrom(today, 20),
  });
  return {
    curve: CA_CURVE,
    root: {
      chr: TEST_ROOT_CHR,
      privateKey: rootKey.privateKey,
      cvc: signCertificate(rootBody, curve, rootKey.privateKey),
    },
    dica: {
      chr: TEST_DICA_CHR,
      privateKey: dicaKey.privateKey,
      cvc: signCertificate(dicaBody, curve, rootKey.privateKey),
    },
  };
}

/** Holder digits already issued by this process (see {@link uniqueDigits}). */
const issuedDigits = new Set<string>();

/**
 * Five random decimal digits not issued before in this process: with only 10^5 values, ~90
 * devices in one test would share a holder (and so a key CHR at a PKA target) in ~4 % of runs.
 */
function uniqueDigits(): string {
  for (;;) {
    const b = randomBytes(4);
    const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const digits = String(v % 100000).padStart(5, '0');
    if (issuedDigits.size >= 100000 || !issuedDigits.has(digits)) {
      issuedDigits.add(digits);
      return digits;
    }
  }
}

/**
 * Issues a device identity: a new device key and a certificate by the DICA with CHR
 * `UTEMU<5 random digits><serial, 5 digits>`. The random part makes the holder (CHR without the
 * last 5 digits, docs/card-reference.md §4.1) unique, so keys OpenSC generates (holder ‖ 00001) do not clash
 * between emulated devices at a PKA target.
 */
export function issueDevice(ca: TestCa, serial: number, now: Date = new Date()): IssuedDevice {
  if (!Number.isSafeInteger(serial) || serial < 0 || serial > 99999) {
    throw new Error('serial must be an integer 0–99999');
  }
  const curve = curveByName(ca.curve);
  const today = cvcDateFromDate(now);
  const key = generateKeyPair(curve);
  const chr = `UTEMU${uniqueDigits()}${String(serial).padStart(5, '0')}`;
  const body = encodeCvcBody({
    car: ca.dica.chr,
    publicKey: { oid: ID_TA_ECDSA_SHA_256, point: key.publicKey },
    chr,
    chat: { oid: OID_CC_ROLE_SC_HSM, rights: Uint8Array.of(0x00) },
    effective: today,
    expiration: yearsFrom(today, 15),
  });
  const deviceCvc = signCertificate(body, curve, ca.dica.privateKey);
  return {
    curve: ca.curve,
    privateKey: key.privateKey,
    chr,
    certificates: concatBytes(deviceCvc, ca.dica.cvc),
  };
}
