/**
 * INITIALIZE DEVICE `80 50` and the DKEK status/import `80 52` (docs/card-reference.md §3.4–§3.6).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { concatBytes, readUint, writeUint } from '../../shared/codec/bytes';
import { findTlv, type Tlv } from '../../shared/codec/tlv';
import { commandTlvs } from './command-tlv';
import { SW } from '../../shared/card/status-words';
import { INIT_TAG, OPTION } from '../../shared/sc-hsm/constants';
import type { Handler } from './context';
import {
  createPin,
  presentPin,
  SO_PIN_LENGTH,
  SO_PIN_RETRIES,
  USER_PIN_MAX,
  USER_PIN_MIN,
} from './pin';
import { check, reply, SwError } from './reply';
import { clearSession } from './session';
import { memoryFree, type DeviceState } from './state';

/** Largest PKA table (OpenSC accepts m up to 90, docs/card-reference.md §3.4). */
export const PKA_MAX_KEYS = 90;
/** Largest number of key-domain slots accepted. */
const MAX_KEY_DOMAINS = 16;
/** Tags INITIALIZE accepts (docs/card-reference.md §3.4); anything else is refused with 6A80. */
const KNOWN_TAGS = new Set([0x80, 0x81, 0x82, 0x91, 0x92, 0x93, 0x95, 0x96, 0x97]);
const DEFAULT_PIN_RETRIES = 3;

/** Reads an optional one-byte TLV value, enforcing its length. */
function byteValue(tlvs: readonly Tlv[], tag: number): number | undefined {
  const t = findTlv(tlvs, tag);
  if (!t) return undefined;
  check(t.value.length === 1, SW.WRONG_DATA, `tag ${tag.toString(16)} must be 1 byte`);
  return t.value[0]!;
}

/** The 7-byte no-data answer: free memory(4) ‖ 00 ‖ major ‖ minor (docs/card-reference.md §3.4, Pico layout). */
function versionInfo(state: DeviceState): Uint8Array {
  return concatBytes(
    writeUint(memoryFree(state), 4),
    Uint8Array.of(0x00, state.firmware.major, state.firmware.minor),
  );
}

/**
 * `80 50 00 00`: without data the version answer; with data (re-)initializes. A device that is
 * already initialized only accepts its current initialization code (SO-PIN, counted). Wipes
 * keys, files, PKA and DKEK; keeps the device identity (docs/card-reference.md §3.4, §10).
 */
export const initialize: Handler = (ctx, cmd) => {
  const { state } = ctx;
  check(cmd.p1 === 0 && cmd.p2 === 0, SW.INCORRECT_P1P2);
  if (cmd.data.length === 0) return reply(versionInfo(state));
  const tlvs = commandTlvs(cmd.data, 'INITIALIZE data');
  const seen = new Set<number>();
  for (const t of tlvs) {
    check(KNOWN_TAGS.has(t.tag), SW.WRONG_DATA, `unknown tag ${t.tag.toString(16)}`);
    check(!seen.has(t.tag), SW.WRONG_DATA, 'duplicate tag');
    seen.add(t.tag);
  }
  const code = findTlv(tlvs, INIT_TAG.INIT_CODE);
  check(code !== undefined && code.value.length === SO_PIN_LENGTH, SW.WRONG_DATA, 'tag 82');
  const optionsTlv = findTlv(tlvs, INIT_TAG.OPTIONS);
  check(optionsTlv === undefined || optionsTlv.value.length === 2, SW.WRONG_DATA, 'tag 80');
  const options = optionsTlv ? readUint(optionsTlv.value) : 0;
  const userPin = findTlv(tlvs, INIT_TAG.USER_PIN);
  check(
    userPin === undefined ||
      (userPin.value.length >= USER_PIN_MIN && userPin.value.length <= USER_PIN_MAX),
    SW.WRONG_DATA,
    'user PIN must be 6–16 bytes',
  );
  const retries = byteValue(tlvs, INIT_TAG.PIN_RETRIES) ?? DEFAULT_PIN_RETRIES;
  check(retries >= 1 && retries <= 10, SW.WRONG_DATA, 'retry counter 1–10');
  const dkekShares = byteValue(tlvs, INIT_TAG.DKEK_SHARES);
  const domains = byteValue(tlvs, INIT_TAG.KEY_DOMAINS) ?? 0;
  check(domains <= MAX_KEY_DOMAINS, SW.WRONG_DATA, 'too many key domains');
  const pkaTlv = findTlv(tlvs, INIT_TAG.PKA);
  let pka: { m: number; n: number } | undefined;
  if (pkaTlv) {
    check(pkaTlv.value.length === 2, SW.WRONG_DATA, 'tag 93 is m n');
    const [m, n] = [pkaTlv.value[0]!, pkaTlv.value[1]!];
    check(n >= 1 && n <= m && m <= PKA_MAX_KEYS, SW.WRONG_DATA, 'need 1 ≤ n ≤ m ≤ 90');
    pka = { m, n };
  }
  // A device needs some way to authenticate: a user PIN, PKA or both (docs/card-reference.md §3.4).
  check(userPin !== undefined || pka !== undefined, SW.WRONG_DATA, 'neither PIN nor PKA');

  if (state.initialized) {
    // Re-initialization requires the current code (docs/card-reference.md §3.4); counted like the SO-PIN.
    if (!state.soPin) throw new SwError(SW.INTERNAL_ERROR, 'initialized without SO-PIN');
    presentPin(state.soPin, code.value, ctx.persist);
  }
  state.initialized = true;
  state.options = options & 0xffff;
  state.soPin = createPin(code.value, SO_PIN_RETRIES);
  if (userPin) state.userPin = createPin(userPin.value, retries);
  else delete state.userPin;
  state.transportPin = userPin !== undefined && (options & OPTION.TRANSPORT_PIN) !== 0;
  if (pka) state.pka = { ...pka, slots: [] };
  else delete state.pka;
  if (dkekShares !== undefined) {
    // 0 shares: the device generates a random DKEK (docs/card-reference.md §3.4 tag 92).
    state.dkek = {
      shares: dkekShares,
      outstanding: dkekShares,
      value: dkekShares === 0 ? randomBytes(32) : new Uint8Array(32),
    };
  } else {
    delete state.dkek;
  }
  state.keyDomains = domains;
  state.keys.clear();
  state.files.clear();
  ctx.persist();
  // Initialization logs everyone out.
  clearSession(ctx.session, true);
  return reply();
};

/** DKEK status: shares ‖ outstanding ‖ KCV(8) = first 8 bytes of SHA-256(DKEK) (docs/card-reference.md §3.6). */
function dkekStatus(state: DeviceState): Uint8Array {
  const d = state.dkek!;
  return concatBytes(Uint8Array.of(d.shares, d.outstanding), sha256(d.value).subarray(0, 8));
}

/**
 * `80 52 00 00` DKEK status or share import, `80 52 00 kd` key-domain status. `6D00` when the
 * device has no DKEK, as OpenSC expects (docs/card-reference.md §3.6).
 */
export const keyDomain: Handler = (ctx, cmd) => {
  const { state } = ctx;
  check(cmd.p1 === 0x00, SW.INCORRECT_P1P2, 'only status and share import are modelled');
  if (cmd.p2 !== 0x00) {
    check(cmd.p2 <= state.keyDomains, SW.INCORRECT_P1P2, 'key domain beyond configured slots');
    throw new SwError(SW.REFERENCED_DATA_NOT_FOUND, 'empty key domain');
  }
  if (!state.initialized || !state.dkek) throw new SwError(SW.INS_NOT_SUPPORTED, 'no DKEK');
  if (cmd.data.length > 0) {
    check(cmd.data.length === 32, SW.WRONG_DATA, 'a DKEK share is 32 bytes');
    check(state.dkek.outstanding > 0, SW.CONDITIONS_NOT_SATISFIED, 'no share outstanding');
    const v = state.dkek.value;
    for (let i = 0; i < 32; i++) v[i] = v[i]! ^ cmd.data[i]!;
    state.dkek.outstanding -= 1;
    ctx.persist();
  }
  return reply(dkekStatus(state));
};
