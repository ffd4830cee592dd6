/**
 * A full PKA round between two emulated SmartCard-HSMs through the real session code:
 * custodian key on device 1, registered at device 2 (1-of-1), authenticated with device 1's
 * signature; plus the refusals (docs/card-reference.md §6.5–§6.7).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ApduChannel } from '../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { asciiBytes, toHex } from '../../../shared/codec/bytes';
import { CardStatusError } from '../../../shared/card/status-words';
import { encodeTlv } from '../../../shared/codec/tlv';
import { parsePkaFile, type PkaFile } from '../../../shared/pka/pka-file';
import { ALGO } from '../../../shared/sc-hsm/constants';
import { signCommand } from '../../../shared/sc-hsm/sign';
import { generateTestCa, type TestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';

const SO_PIN = '3537363231383830';
const PIN = '648219';

function open(card: EmulatedSmartCardHsm): { hsm: SmartCardHsm; channel: ApduChannel } {
  const channel = new ApduChannel(createInProcessTransport(card));
  return { hsm: new SmartCardHsm(channel), channel };
}

async function swOf(p: Promise<unknown>): Promise<number> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof CardStatusError))
    throw new Error(`expected a CardStatusError, got ${String(e)}`);
  return e.sw;
}

let ca: TestCa;
let custodian: SmartCardHsm;
let target: SmartCardHsm;
let targetChannel: ApduChannel;
let keyId: number;
let keyChr: Uint8Array;
let pkaBytes: Uint8Array;

async function sign(targetChr: Uint8Array, challenge: Uint8Array): Promise<Uint8Array> {
  return custodian.signPkaChallenge(keyId, targetChr, challenge);
}

beforeEach(async () => {
  ca ??= generateTestCa();
  custodian = open(new EmulatedSmartCardHsm(createDeviceState(ca, { serial: 1 }))).hsm;
  await custodian.select();
  await custodian.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3 });
  expect(await custodian.verifyPin(asciiBytes(PIN))).toEqual({ state: 'verified' });
  const key = await custodian.generateCustodianKey({ label: 'PKA custodian' });
  keyId = key.keyId;
  keyChr = asciiBytes(key.chr);
  pkaBytes = await custodian.exportPka(keyId);

  const t = open(new EmulatedSmartCardHsm(createDeviceState(ca, { serial: 2 })));
  target = t.hsm;
  targetChannel = t.channel;
  await target.select();
  await target.initialize({ soPin: SO_PIN, pka: { m: 1, n: 1 } });
});

function pkaFile(bytes = pkaBytes): PkaFile {
  const r = parsePkaFile(bytes);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('custodian key on device 1', () => {
  it('is listed with label, unique CHR and the request, and exports as a .pka file', async () => {
    const keys = await custodian.listKeys();
    expect(keys).toEqual([
      expect.objectContaining({
        id: keyId,
        label: 'PKA custodian',
        curve: 'brainpoolP256r1',
        size: 256,
        hasRequest: true,
      }),
    ]);
    const deviceChr = new TextDecoder().decode(await custodian.deviceChr());
    // CHR = device holder + the first 5-digit sequence not in use (docs/card-reference.md §4.1, §6.2).
    const holder = deviceChr.slice(0, -5);
    const seq = (chr: string) => Number(chr.slice(-5));
    expect(keys[0]!.chr!.slice(0, -5)).toBe(holder);
    expect(keys[0]!.chr).not.toBe(deviceChr);
    expect(seq(keys[0]!.chr!)).toBe(seq(deviceChr) === 1 ? 2 : 1);
    const second = await custodian.generateCustodianKey({ label: 'second' });
    expect(second.chr.slice(0, -5)).toBe(holder);
    expect([deviceChr, keys[0]!.chr]).not.toContain(second.chr);
    await expect(
      custodian.generateCustodianKey({ label: 'clash', chr: second.chr }),
    ).rejects.toThrow(/already used/);
    const file = pkaFile();
    expect(file.format).toBe('new');
    expect(file.request.inner.body.chr).toBe(keys[0]!.chr);
  });
});

describe('PKA round (1 of 1)', () => {
  it('registers, authenticates and unlocks a protected operation', async () => {
    expect(await target.pkaStatus()).toEqual({ m: 1, missing: 1, n: 1, authenticated: 0 });
    expect(await target.pinStatus()).toEqual({ state: 'pka-active' });
    expect(await target.registerPublicKey(pkaFile())).toEqual({
      m: 1,
      missing: 0,
      n: 1,
      authenticated: 0,
    });

    // Before authentication a key cannot be generated on the target.
    expect(await swOf(target.generateCustodianKey({ label: 'locked' }))).toBe(0x6982);

    const status = await target.authenticatePka(keyChr, sign);
    expect(status).toEqual({ m: 1, missing: 0, n: 1, authenticated: 1 });
    expect(await target.pinStatus()).toEqual({ state: 'verified' });

    const key = await target.generateCustodianKey({ label: 'protected' });
    const cmd = signCommand(key.keyId, ALGO.ECDSA_SHA256, asciiBytes('payload'));
    if (!cmd.ok) throw new Error(cmd.error.message);
    const resp = await targetChannel.send(cmd.value);
    expect(resp.sw).toBe(0x9000);
    expect(resp.data[0]).toBe(0x30); // DER signature

    // Logout clears the quorum (docs/card-reference.md §6.7).
    await target.logout();
    expect((await target.pkaStatus())?.authenticated).toBe(0);
    expect((await targetChannel.send(cmd.value)).sw).toBe(0x6982);
  });
});

describe('refusals', () => {
  beforeEach(async () => {
    await target.registerPublicKey(pkaFile());
  });

  it('a wrong signature', async () => {
    await target.selectPkaKey(keyChr);
    await target.getChallenge();
    expect(await swOf(target.externalAuthenticate(new Uint8Array(64).fill(1)))).toBe(0x6985);
    expect((await target.pkaStatus())?.authenticated).toBe(0);
  });

  it('a signature for another target id', async () => {
    const own = await custodian.deviceChr();
    await target.selectPkaKey(keyChr);
    const challenge = await target.getChallenge();
    const sig = await custodian.signPkaChallenge(keyId, own, challenge);
    expect(await swOf(target.externalAuthenticate(sig))).toBe(0x6985);
    expect((await target.pkaStatus())?.authenticated).toBe(0);
  });

  it('an unregistered key', async () => {
    expect(await swOf(target.selectPkaKey(asciiBytes('UTNOTREG00001')))).toBe(0x6a88);
  });

  it('an expired or reused challenge', async () => {
    const targetChr = await target.deviceChr();
    await target.selectPkaKey(keyChr);
    const old = await target.getChallenge();
    await target.getChallenge(); // replaces the first one
    const stale = await custodian.signPkaChallenge(keyId, targetChr, old);
    expect(await swOf(target.externalAuthenticate(stale))).toBe(0x6985);

    // The failed attempt used up the fresh challenge for this key too.
    await target.selectPkaKey(keyChr);
    const fresh = await target.getChallenge();
    const good = await custodian.signPkaChallenge(keyId, targetChr, fresh);
    await target.externalAuthenticate(good);
    await target.logout();
    await target.selectPkaKey(keyChr);
    expect(await swOf(target.externalAuthenticate(good))).toBe(0x6985);
    await target.getChallenge();
    expect(await swOf(target.externalAuthenticate(good))).toBe(0x6985);
  });

  async function freshTarget(serial: number): Promise<SmartCardHsm> {
    const hsm = open(new EmulatedSmartCardHsm(createDeviceState(ca, { serial }))).hsm;
    await hsm.select();
    await hsm.initialize({ soPin: SO_PIN, pka: { m: 1, n: 1 } });
    return hsm;
  }

  it('a tampered attestation', async () => {
    const file = pkaFile();
    const outer = file.request.encoded.slice();
    outer[outer.length - 1]! ^= 0x01; // outer signature by the device key
    const inner = file.request.inner.encoded.slice();
    inner[inner.length - 1]! ^= 0x01; // self-signature of the key
    const rebuilt = encodeTlv(
      0x67,
      inner,
      file.request.outerCarTlv,
      encodeTlv(0x5f37, file.request.outerSignature),
    );
    const device = file.device.encoded.slice();
    device[device.length - 1]! ^= 0x01; // device certificate signature by the DICA
    const cases: { reg: Parameters<SmartCardHsm['registerPublicKey']>[0]; step: RegExp }[] = [
      { reg: { ...file, request: outer }, step: /MANAGE PKA register/ },
      { reg: { ...file, request: rebuilt }, step: /MANAGE PKA register/ },
      { reg: { ...file, device }, step: /PSO VERIFY CERTIFICATE \(device certificate/ },
    ];
    let serial = 10;
    for (const { reg, step } of cases) {
      const fresh = await freshTarget(serial++);
      const e = await fresh.registerPublicKey(reg).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CardStatusError);
      expect((e as CardStatusError).sw).toBe(0x6985);
      expect((e as CardStatusError).operation).toMatch(step);
      expect(await fresh.pkaStatus()).toEqual({ m: 1, missing: 1, n: 1, authenticated: 0 });
    }
    expect(toHex(file.request.encoded)).not.toBe(toHex(outer));
  });

  it('material whose links do not fit is refused before anything is sent', async () => {
    const file = pkaFile();
    const fresh = await freshTarget(20);
    await expect(fresh.registerPublicKey({ ...file, dica: file.device })).rejects.toThrow(
      /issued by/,
    );
  });

  it('a device chain from a root the target does not trust', async () => {
    const other = generateTestCa();
    const foreign = open(new EmulatedSmartCardHsm(createDeviceState(other, { serial: 4 }))).hsm;
    await foreign.select();
    await foreign.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN) });
    await foreign.verifyPin(asciiBytes(PIN));
    const k = await foreign.generateCustodianKey({ label: 'foreign' });
    const fresh = await freshTarget(5);
    const e = await fresh
      .registerPublicKey(pkaFile(await foreign.exportPka(k.keyId)))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CardStatusError);
    // Same root CHR, different key: the DICA signature does not verify (or the issuer is unknown).
    expect((e as CardStatusError).operation).toMatch(/DICA/);
    expect(await fresh.pkaStatus()).toEqual({ m: 1, missing: 1, n: 1, authenticated: 0 });
  });
});
