/**
 * Test helpers: build emulated cards on one shared test CA and drive them with APDUs.
 * @module
 */
import { expect } from 'vitest';
import {
  command,
  decodeResponseApdu,
  encodeCommandApdu,
  type ResponseApdu,
} from '../../../shared/codec/apdu';
import { asciiBytes, bytesToAscii, concatBytes, fromHex } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { curveByName, type CurveName } from '../../../shared/crypto/curves';
import { derToPlain } from '../../../shared/crypto/ecdsa';
import { parseCvcAt } from '../../../shared/cvc/cvc';
import { encodePublicKey } from '../../../shared/cvc/encode';
import { ID_TA_ECDSA_SHA_256 } from '../../../shared/cvc/oids';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import { buildPkaSignatureInput } from '../../../shared/sc-hsm/pka-input';
import { generateTestCa, type TestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import type { DeviceState } from '../../../emulator/card/state';

/** One test CA per test file (key generation is the slow part). */
let sharedCa: TestCa | undefined;
export function testCa(): TestCa {
  sharedCa ??= generateTestCa();
  return sharedCa;
}

export const USER_PIN = asciiBytes('648219');
export const SO_PIN = fromHex('3537363231383830');

/** A card plus convenience senders. */
export type Harness = {
  card: EmulatedSmartCardHsm;
  state: DeviceState;
  changes: { count: number };
  /** Sends a command (extended encoding when needed) and decodes the answer. */
  send(
    cla: number,
    ins: number,
    p1: number,
    p2: number,
    data?: Uint8Array,
    ne?: number,
  ): ResponseApdu;
  /** Sends and expects `sw`, returning the data. */
  expectSw(sw: number, ...args: Parameters<Harness['send']>): Uint8Array;
  /** Device CHR bytes (PKA device id). */
  deviceChr: Uint8Array;
};

let serial = 1;

/** A powered, factory-fresh card (uninitialized, applet selected unless `select: false`). */
export function newCard(options: { select?: boolean; ca?: TestCa } = {}): Harness {
  const state = createDeviceState(options.ca ?? testCa(), { serial: serial++ });
  const changes = { count: 0 };
  const card = new EmulatedSmartCardHsm(state, {
    onChange: () => {
      changes.count++;
    },
  });
  card.powerOn();
  const send: Harness['send'] = (cla, ins, p1, p2, data = new Uint8Array(0), ne) => {
    const raw = encodeCommandApdu(command(cla, ins, p1, p2, data, ne));
    if (!raw.ok) throw new Error(raw.error.message);
    const r = decodeResponseApdu(card.process(raw.value));
    if (!r.ok) throw new Error('short response');
    return r.value;
  };
  const h: Harness = {
    card,
    state,
    changes,
    send,
    expectSw(sw, ...args) {
      const r = send(...args);
      expect(r.sw.toString(16)).toBe(sw.toString(16));
      return r.data;
    },
    deviceChr: state.identity.chr,
  };
  if (options.select !== false) h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
  return h;
}

/** INITIALIZE data per docs/card-reference.md §3.4. */
export function initData(
  opts: {
    pin?: Uint8Array | null;
    so?: Uint8Array;
    options?: number;
    retries?: number;
    pka?: [number, number];
    dkek?: number;
  } = {},
): Uint8Array {
  const parts = [
    encodeTlv(0x80, Uint8Array.of((opts.options ?? 1) >> 8, (opts.options ?? 1) & 0xff)),
  ];
  if (opts.pin !== null) parts.push(encodeTlv(0x81, opts.pin ?? USER_PIN));
  parts.push(encodeTlv(0x82, opts.so ?? SO_PIN));
  parts.push(encodeTlv(0x91, Uint8Array.of(opts.retries ?? 3)));
  if (opts.dkek !== undefined) parts.push(encodeTlv(0x92, Uint8Array.of(opts.dkek)));
  if (opts.pka) parts.push(encodeTlv(0x93, Uint8Array.of(...opts.pka)));
  return concatBytes(...parts);
}

/** Initializes and (when a PIN is set) logs in. */
export function initAndLogin(h: Harness, opts: Parameters<typeof initData>[0] = {}): void {
  h.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, initData(opts));
  if (opts.pin !== null) h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, opts.pin ?? USER_PIN);
}

/** A GAKP template for an EC key (docs/card-reference.md §7.1). */
export function ecTemplate(
  chr: string,
  curve: CurveName = 'brainpoolP256r1',
  extra: Uint8Array[] = [],
): Uint8Array {
  const c = curveByName(curve);
  return concatBytes(
    encodeTlv(0x5f29, Uint8Array.of(0)),
    encodeTlv(0x42, asciiBytes('UTCA00001')),
    encodePublicKey({ oid: ID_TA_ECDSA_SHA_256, domain: c.domain }),
    encodeTlv(0x5f20, asciiBytes(chr)),
    ...extra,
  );
}

/** Generates key `kid` and returns the authenticated request (full `67` TLV). */
export function generateKey(
  h: Harness,
  kid: number,
  chr: string,
  curve: CurveName = 'brainpoolP256r1',
  extra: Uint8Array[] = [],
): Uint8Array {
  return h.expectSw(0x9000, 0x00, 0x46, kid, 0x00, ecTemplate(chr, curve, extra), 65536);
}

/** EF 2F02 split into device and DICA certificates (raw TLVs). */
export function deviceChain(h: Harness): { device: Uint8Array; dica: Uint8Array } {
  const ef = h.expectSw(0x6282, 0x00, 0xb1, 0x2f, 0x02, fromHex('54020000'), 65536);
  const first = parseCvcAt(ef, 0);
  if (!first.ok) throw new Error(first.error.message);
  return { device: ef.slice(0, first.value.end), dica: ef.slice(first.value.end) };
}

/** Custodian side of §6.6: SIGN CHR(T) ‖ challenge with algo 73, DER → plain. */
export function custodianSign(
  custodian: Harness,
  kid: number,
  targetChr: Uint8Array,
  challenge: Uint8Array,
): Uint8Array {
  const der = custodian.expectSw(
    0x9000,
    0x80,
    0x68,
    kid,
    0x73,
    buildPkaSignatureInput(targetChr, challenge),
    256,
  );
  const plain = derToPlain(der, 32);
  if (!plain.ok) throw new Error(plain.error.message);
  return plain.value;
}

/**
 * Registers custodian key `kid` of `custodian` at `target` with the full §6.5 sequence
 * (DICA, device certificate, outer CAR, 80 54). Returns the status bytes.
 */
export function register(target: Harness, custodian: Harness, kid: number): Uint8Array {
  const { device, dica } = deviceChain(custodian);
  const request = custodian.expectSw(0x6282, 0x00, 0xb1, 0xce, kid, fromHex('54020000'), 65536);
  importCert(target, dica);
  importCert(target, device);
  const req = parseRequest(request);
  target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(req.outerCar)));
  return target.expectSw(0x9000, 0x80, 0x54, 0x00, 0x00, req.content, 4);
}

/** MSE B6 CAR, PSO (value of 7F21). */
export function importCert(target: Harness, cvc: Uint8Array, sw = 0x9000): void {
  const parsed = parseCvcAt(cvc, 0);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const car = parsed.value.cvc.body.car!;
  target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(car)));
  const value = cvc.slice(cvc[2]! === 0x82 ? 5 : cvc[2]! === 0x81 ? 4 : 3);
  target.expectSw(sw, 0x00, 0x2a, 0x00, 0xbe, value);
}

/** Parses an authenticated request (throws on error). */
export function parseRequest(request: Uint8Array): {
  outerCar: string;
  content: Uint8Array;
  chr: string;
} {
  // Inline to keep helpers independent of test files.
  const len = request[1]! === 0x82 ? 4 : request[1]! === 0x81 ? 3 : 2;
  const content = request.slice(len);
  const inner = parseCvcAt(content, 0);
  if (!inner.ok) throw new Error(inner.error.message);
  const carTlvStart = inner.value.end;
  const carLen = content[carTlvStart + 1]!;
  const outerCar = bytesToAscii(content.slice(carTlvStart + 2, carTlvStart + 2 + carLen));
  return { outerCar, content, chr: inner.value.cvc.body.chr };
}

/** Full §6.6 authentication of one custodian key at the target. */
export function authenticate(
  target: Harness,
  custodian: Harness,
  kid: number,
  chr: string,
): number {
  const r1 = target.send(0x00, 0x22, 0x81, 0xa4, encodeTlv(0x83, asciiBytes(chr)));
  if (r1.sw !== 0x9000) return r1.sw;
  const challenge = target.expectSw(0x9000, 0x00, 0x84, 0x00, 0x00, undefined, 8);
  const sig = custodianSign(custodian, kid, target.deviceChr, challenge);
  return target.send(0x00, 0x82, 0x00, 0x00, sig).sw;
}

/** A custodian device with key 1 whose CHR is unique. */
export function custodian(n: number): { h: Harness; chr: string } {
  const h = newCard();
  initAndLogin(h);
  const chr = `UTCUST${String(n).padStart(5, '0')}`;
  generateKey(h, 1, chr);
  return { h, chr };
}
