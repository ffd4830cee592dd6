/**
 * The persistent state as JSON (hex strings) and its file: factory-fresh creation, strict
 * validation on load (a corrupt file is a clear {@link StateFileError}), atomic save.
 * @module
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { bytesEqual, fromHex, toHex } from '../../shared/codec/bytes';
import {
  CURVE_NAMES,
  curveByName,
  publicKeyFromPrivate,
  type CurveName,
} from '../../shared/crypto/curves';
import { parseCvc, parseCvcAt } from '../../shared/cvc/cvc';
import { issueDevice, type TestCa } from '../ca/test-ca';
import { writeFileAtomic } from '../../core/fs/atomic-write';
import type { DeviceState, KeyRecord, PinRecord, RsaKeyMaterial } from './state';
import { rsaMaterialFromPkcs8 } from './rsa-key';

const STATE_FORMAT = 'custodian-sc-hsm-emulator-state/1';

/** Firmware version the emulator reports (SELECT tag 85, `80 50` answer; docs/card-reference.md §1.3). */
export const EMULATED_FIRMWARE = { major: 3, minor: 6 } as const;

/** A state file that cannot be used. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

const hex = z.string().regex(/^([0-9a-f]{2})*$/, 'lower-case hex');
const curveName = z.enum(CURVE_NAMES as [CurveName, ...CurveName[]]);
const byte = z.number().int().min(0).max(255);
const pin = z
  .object({
    salt: hex,
    hash: hex,
    length: z.number().int().min(1).max(16),
    retries: byte,
    maxRetries: byte,
  })
  .strict()
  .refine((p) => p.retries <= p.maxRetries, 'retries above maximum');
const policy = {
  algorithms: hex.optional(),
  useCounter: z.number().int().min(0).max(0xffffffff).optional(),
};
const ecKey = z.object({ curve: curveName, privateKey: hex, publicKey: hex, ...policy }).strict();
/** RSA keys are stored as PKCS#8; modulus and exponent are derived again on load. */
const rsaKey = z.object({ rsaPkcs8: hex, ...policy }).strict();
const key = z.union([ecKey, rsaKey]);
const slot = z.object({ chr: hex, request: hex, curve: curveName, point: hex }).strict();
const schema = z
  .object({
    format: z.literal(STATE_FORMAT),
    serial: z.string().regex(/^[0-9]{1,5}$/),
    identity: z.object({ curve: curveName, privateKey: hex, chr: hex, certificates: hex }).strict(),
    trustedRoots: z.array(hex).min(1),
    firmware: z.object({ major: byte, minor: byte }).strict(),
    initialized: z.boolean(),
    options: z.number().int().min(0).max(0xffff),
    userPin: pin.optional(),
    transportPin: z.boolean(),
    soPin: pin.optional(),
    pka: z
      .object({
        m: z.number().int().min(1).max(90),
        n: z.number().int().min(1).max(90),
        slots: z.array(slot),
      })
      .strict()
      .refine((p) => p.n <= p.m && p.slots.length <= p.m, 'PKA n ≤ m and slots ≤ m')
      .optional(),
    dkek: z.object({ shares: byte, outstanding: byte, value: hex }).strict().optional(),
    keyDomains: byte,
    keys: z.record(z.string().regex(/^([1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-5])$/), key),
    files: z.record(z.string().regex(/^[0-9a-f]{4}$/), hex),
  })
  .strict();

type StateJson = z.infer<typeof schema>;

const pinJson = (p: PinRecord): z.infer<typeof pin> => ({
  salt: toHex(p.salt),
  hash: toHex(p.hash),
  length: p.length,
  retries: p.retries,
  maxRetries: p.maxRetries,
});
const pinFrom = (p: z.infer<typeof pin>): PinRecord => ({
  ...p,
  salt: fromHex(p.salt),
  hash: fromHex(p.hash),
});

/** A factory-fresh, uninitialized device with a new identity issued by `ca`. */
export function createDeviceState(ca: TestCa, options: { serial?: number } = {}): DeviceState {
  const serial = options.serial ?? Math.floor(Math.random() * 100000);
  const device = issueDevice(ca, serial);
  return {
    serial: String(serial).padStart(5, '0'),
    identity: {
      curve: device.curve,
      privateKey: device.privateKey,
      chr: new TextEncoder().encode(device.chr),
      certificates: device.certificates,
    },
    trustedRoots: [ca.root.cvc],
    firmware: { ...EMULATED_FIRMWARE },
    initialized: false,
    options: 0,
    transportPin: false,
    keyDomains: 0,
    keys: new Map(),
    files: new Map(),
  };
}

/** Serialises the state (pretty JSON, hex strings). */
export function stateToJson(s: DeviceState): string {
  const json: StateJson = {
    format: STATE_FORMAT,
    serial: s.serial,
    identity: {
      curve: s.identity.curve,
      privateKey: toHex(s.identity.privateKey),
      chr: toHex(s.identity.chr),
      certificates: toHex(s.identity.certificates),
    },
    trustedRoots: s.trustedRoots.map(toHex),
    firmware: { ...s.firmware },
    initialized: s.initialized,
    options: s.options,
    transportPin: s.transportPin,
    keyDomains: s.keyDomains,
    keys: Object.fromEntries(
      [...s.keys].map(([id, k]) => {
        const v: z.infer<typeof key> = k.rsa
          ? { rsaPkcs8: toHex(k.rsa.pkcs8) }
          : { curve: k.curve, privateKey: toHex(k.privateKey), publicKey: toHex(k.publicKey) };
        if (k.algorithms) v.algorithms = toHex(k.algorithms);
        if (k.useCounter !== undefined) v.useCounter = k.useCounter;
        return [String(id), v];
      }),
    ),
    files: Object.fromEntries(
      [...s.files].map(([fid, d]) => [fid.toString(16).padStart(4, '0'), toHex(d)]),
    ),
  };
  if (s.userPin) json.userPin = pinJson(s.userPin);
  if (s.soPin) json.soPin = pinJson(s.soPin);
  if (s.pka) {
    json.pka = {
      m: s.pka.m,
      n: s.pka.n,
      slots: s.pka.slots.map((x) => ({
        chr: toHex(x.chr),
        request: toHex(x.request),
        curve: x.curve,
        point: toHex(x.point),
      })),
    };
  }
  if (s.dkek)
    json.dkek = {
      shares: s.dkek.shares,
      outstanding: s.dkek.outstanding,
      value: toHex(s.dkek.value),
    };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** RSA key material from stored PKCS#8 hex; a clear error when it is not an RSA key. */
function rsaFromPkcs8(hexKey: string, id: string): RsaKeyMaterial {
  try {
    return rsaMaterialFromPkcs8(fromHex(hexKey));
  } catch {
    throw new StateFileError(`state: key ${id} is not a valid RSA private key`);
  }
}

/** Checks that the device key matches the device certificate in EF 2F02 and both CVCs parse. */
function checkIdentity(s: DeviceState): void {
  const first = parseCvcAt(s.identity.certificates, 0);
  if (!first.ok) throw new StateFileError('state: device certificate in 2F02 does not parse');
  const dica = parseCvc(s.identity.certificates.subarray(first.value.end));
  if (!dica.ok) throw new StateFileError('state: DICA certificate in 2F02 does not parse');
  const body = first.value.cvc.body;
  if (!bytesEqual(body.chrBytes, s.identity.chr))
    throw new StateFileError('state: device CHR mismatch');
  let pub: Uint8Array;
  try {
    pub = publicKeyFromPrivate(curveByName(s.identity.curve), s.identity.privateKey);
  } catch {
    throw new StateFileError('state: device private key is invalid');
  }
  if (!body.publicKey.point || !bytesEqual(pub, body.publicKey.point)) {
    throw new StateFileError('state: device key does not match its certificate');
  }
  for (const r of s.trustedRoots)
    if (!parseCvc(r).ok) throw new StateFileError('state: bad trusted root');
}

/** Parses and validates state JSON text. */
export function stateFromJson(text: string): DeviceState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new StateFileError('state file is not valid JSON');
  }
  const p = schema.safeParse(raw);
  if (!p.success) {
    const issue = p.error.issues[0];
    throw new StateFileError(
      `state file is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? '?'}`,
    );
  }
  const j = p.data;
  const keys = new Map<number, KeyRecord>();
  for (const [id, k] of Object.entries(j.keys)) {
    const rec: KeyRecord =
      'rsaPkcs8' in k
        ? { rsa: rsaFromPkcs8(k.rsaPkcs8, id) }
        : { curve: k.curve, privateKey: fromHex(k.privateKey), publicKey: fromHex(k.publicKey) };
    if (k.algorithms !== undefined) rec.algorithms = fromHex(k.algorithms);
    if (k.useCounter !== undefined) rec.useCounter = k.useCounter;
    keys.set(Number(id), rec);
  }
  const s: DeviceState = {
    serial: j.serial,
    identity: {
      curve: j.identity.curve,
      privateKey: fromHex(j.identity.privateKey),
      chr: fromHex(j.identity.chr),
      certificates: fromHex(j.identity.certificates),
    },
    trustedRoots: j.trustedRoots.map((r) => fromHex(r)),
    firmware: j.firmware,
    initialized: j.initialized,
    options: j.options,
    transportPin: j.transportPin,
    keyDomains: j.keyDomains,
    keys,
    files: new Map(Object.entries(j.files).map(([fid, d]) => [parseInt(fid, 16), fromHex(d)])),
  };
  if (j.userPin) s.userPin = pinFrom(j.userPin);
  if (j.soPin) s.soPin = pinFrom(j.soPin);
  if (j.pka) {
    s.pka = {
      m: j.pka.m,
      n: j.pka.n,
      slots: j.pka.slots.map((x) => ({
        chr: fromHex(x.chr),
        request: fromHex(x.request),
        curve: x.curve,
        point: fromHex(x.point),
      })),
    };
  }
  if (j.dkek) {
    if (j.dkek.value.length !== 64) throw new StateFileError('state: DKEK must be 32 bytes');
    s.dkek = {
      shares: j.dkek.shares,
      outstanding: j.dkek.outstanding,
      value: fromHex(j.dkek.value),
    };
  }
  if (s.initialized && !s.soPin)
    throw new StateFileError('state: initialized device without SO-PIN');
  checkIdentity(s);
  return s;
}

/** Loads and validates a state file. */
export function loadState(file: string): DeviceState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new StateFileError(
      code === 'ENOENT' ? `state file ${file} does not exist` : `cannot read state file ${file}`,
    );
  }
  return stateFromJson(text);
}

/** Saves the state atomically (temp file + rename), readable by the owner only (it holds keys). */
export function saveState(file: string, state: DeviceState): void {
  writeFileAtomic(file, stateToJson(state), 0o600);
}
