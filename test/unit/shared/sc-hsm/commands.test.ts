import { describe, expect, it } from 'vitest';
import { asciiBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { decodeTlv, decodeTlvList, encodeTlv, findTlv } from '../../../../shared/codec/tlv';
import { ALGO, FID, OPTION, PREFIX } from '../../../../shared/sc-hsm/constants';
import {
  deleteFileCommand,
  enumerateObjectsCommand,
  objectFid,
  readBinaryCommand,
  updateBinaryCommands,
} from '../../../../shared/sc-hsm/files';
import { initializeCommand } from '../../../../shared/sc-hsm/initialize';
import { generateEcKeyCommand, PKA_KEY_ALGORITHMS } from '../../../../shared/sc-hsm/keygen';
import {
  changePinCommand,
  changeSoPinCommand,
  encodeSoPin,
  pinStatusCommand,
  soPinStatusCommand,
  verifyPinCommand,
} from '../../../../shared/sc-hsm/pin';
import {
  enumeratePkaSlotCommand,
  externalAuthenticateCommand,
  getChallengeCommand,
  mseSetCommand,
  pkaStatusCommand,
  psoVerifyCertificateCommand,
  registerPkaKeyCommand,
} from '../../../../shared/sc-hsm/pka';
import { buildPkaSignatureInput } from '../../../../shared/sc-hsm/pka-input';
import { selectApplet } from '../../../../shared/sc-hsm/select';
import { signCommand } from '../../../../shared/sc-hsm/sign';
import { DESRCACC100001, apduHex, h, value } from './helpers';

const AID = 'e82b0601040181c31f0201';

describe('SELECT and PIN commands (docs/card-reference.md §1.3, §3.1, §3.2)', () => {
  it('selects the applet with and without FCP', () => {
    expect(apduHex(selectApplet())).toBe(h(`00 A4 04 04 0B ${AID} 00`));
    expect(apduHex(selectApplet('no-data'))).toBe(h(`00 A4 04 0C 0B ${AID}`));
  });

  it('builds PIN status, verify and change', () => {
    expect(apduHex(pinStatusCommand())).toBe('00200081');
    expect(apduHex(soPinStatusCommand())).toBe('00200088');
    expect(apduHex(value(verifyPinCommand(asciiBytes('648219'))))).toBe(
      h('00 20 00 81 06 363438323139'),
    );
    expect(apduHex(value(changePinCommand(asciiBytes('654321'), asciiBytes('648219'))))).toBe(
      h('00 24 00 81 0C 363534333231 363438323139'),
    );
    const so = value(encodeSoPin('3537363231383830'));
    expect(apduHex(value(changeSoPinCommand(so, so)))).toBe(
      h('00 24 00 88 10 3537363231383830 3537363231383830'),
    );
  });

  it('refuses PINs outside 6–16 bytes and malformed SO-PINs', () => {
    expect(verifyPinCommand(asciiBytes('12345')).ok).toBe(false);
    expect(verifyPinCommand(new Uint8Array(17)).ok).toBe(false);
    expect(verifyPinCommand(new Uint8Array(16)).ok).toBe(true);
    expect(changePinCommand(asciiBytes('123456'), asciiBytes('123')).ok).toBe(false);
    expect(encodeSoPin('57621880').ok).toBe(false);
    expect(encodeSoPin('353736323138383g').ok).toBe(false);
    expect(changeSoPinCommand(new Uint8Array(8), new Uint8Array(7)).ok).toBe(false);
  });

  it('copies the PIN into the command so the caller can wipe both', () => {
    const pin = asciiBytes('648219');
    const cmd = value(verifyPinCommand(pin));
    pin.fill(0);
    expect(toHex(cmd.data)).toBe('363438323139');
  });
});

describe('INITIALIZE DEVICE (docs/card-reference.md §3.4)', () => {
  it('reproduces the key-generator example', () => {
    // 80 02 00 02 | 81 06 "654321" | 82 08 "57621880" | 91 01 03 | 97 01 01
    const cmd = value(
      initializeCommand({
        soPin: '3537363231383830',
        userPin: asciiBytes('654321'),
        options: OPTION.TRANSPORT_PIN,
        retries: 3,
        keyDomains: 1,
      }),
    );
    expect(apduHex(cmd)).toBe(
      h('80 50 00 00 1C 8002 0002 8106 363534333231 8208 3537363231383830 910103 970101'),
    );
  });

  it('encodes PKA m-of-n, DKEK shares and defaults', () => {
    const cmd = value(
      initializeCommand({ soPin: fromHex('3537363231383830'), pka: { m: 3, n: 2 }, dkekShares: 0 }),
    );
    const tlvs = value(decodeTlvList(cmd.data));
    expect(tlvs.map((t) => t.tag)).toEqual([0x80, 0x82, 0x92, 0x93]);
    expect(toHex(findTlv(tlvs, 0x80)!.value)).toBe('0001');
    expect(toHex(findTlv(tlvs, 0x93)!.value)).toBe('0302');
    const withPin = value(
      initializeCommand({ soPin: '3537363231383830', userPin: asciiBytes('648219') }),
    );
    expect(toHex(findTlv(value(decodeTlvList(withPin.data)), 0x91)!.value)).toBe('03');
  });

  it('validates every option', () => {
    const so = '3537363231383830';
    const pin = asciiBytes('648219');
    const bad = [
      { soPin: 'zz' },
      { soPin: new Uint8Array(7), userPin: pin },
      { soPin: so }, // neither PIN nor PKA
      { soPin: so, userPin: asciiBytes('12345') },
      { soPin: so, userPin: pin, retries: 4 }, // 6-digit PIN: at most 3
      { soPin: so, userPin: asciiBytes('1234567'), retries: 6 },
      { soPin: so, userPin: asciiBytes('12345678'), retries: 11 },
      { soPin: so, userPin: pin, retries: 0 },
      { soPin: so, pka: { m: 0, n: 0 } },
      { soPin: so, pka: { m: 91, n: 1 } },
      { soPin: so, pka: { m: 2, n: 3 } },
      { soPin: so, pka: { m: 2, n: 0 } },
      { soPin: so, pka: { m: 1.5, n: 1 } },
      { soPin: so, pka: { m: 1, n: 1 }, retries: 3 },
      { soPin: so, pka: { m: 1, n: 1 }, options: OPTION.TRANSPORT_PIN },
      { soPin: so, pka: { m: 1, n: 1 }, options: OPTION.PKA_AND_PIN },
      { soPin: so, userPin: pin, options: OPTION.REPLACE_PKA },
      { soPin: so, userPin: pin, options: 0x10000 },
      { soPin: so, userPin: pin, dkekShares: 256 },
      { soPin: so, userPin: pin, keyDomains: 0 },
    ];
    for (const options of bad)
      expect(initializeCommand(options).ok, JSON.stringify(options)).toBe(false);
    expect(initializeCommand({ soPin: so, pka: { m: 90, n: 90 } }).ok).toBe(true);
    expect(
      initializeCommand({
        soPin: so,
        userPin: asciiBytes('12345678'),
        retries: 10,
        pka: { m: 1, n: 1 },
        options: 0x11,
      }).ok,
    ).toBe(true);
  });
});

describe('PKA commands (docs/card-reference.md §6.4–§6.6, appendix B)', () => {
  const chr = asciiBytes('ESPICOHSMTRLRA4C');

  it('builds status, MSE, GET CHALLENGE and EXTERNAL AUTHENTICATE as in appendix B', () => {
    expect(apduHex(pkaStatusCommand())).toBe('8054000004');
    expect(apduHex(mseSetCommand('A4', chr))).toBe(h(`00 22 81 A4 12 83 10 ${toHex(chr)}`));
    expect(apduHex(mseSetCommand('B6', asciiBytes('DESRCACC100001')))).toBe(
      h(`00 22 81 B6 10 83 0E ${toHex(asciiBytes('DESRCACC100001'))}`),
    );
    expect(apduHex(getChallengeCommand())).toBe('0084000008');
    const sig = new Uint8Array(64).fill(7);
    expect(apduHex(value(externalAuthenticateCommand(sig)))).toBe('0082000040' + toHex(sig));
    expect(apduHex(enumeratePkaSlotCommand(2))).toBe('8054020200');
  });

  it('sends the value of 67 for registration and of 7F21 for PSO', () => {
    const request = encodeTlv(0x67, encodeTlv(0x7f21, fromHex('7f4e00')), encodeTlv(0x42, chr));
    const reg = value(registerPkaKeyCommand(request));
    expect(toHex(reg.data)).toBe(toHex(value(decodeTlv(request)).value));
    expect(reg.ne).toBe(4);
    expect(apduHex(reg).slice(0, 10)).toBe(h('80 54 00 00 18'));
    expect(registerPkaKeyCommand(encodeTlv(0x7f21, fromHex('00'))).ok).toBe(false);
    expect(registerPkaKeyCommand(fromHex('6705')).ok).toBe(false);

    const srca = fromHex(DESRCACC100001);
    const pso = value(psoVerifyCertificateCommand(srca));
    expect(apduHex(pso).slice(0, 14)).toBe(h('00 2A 00 BE 00 01 B4'));
    expect(toHex(pso.data)).toBe(toHex(srca.subarray(5)));
    expect(psoVerifyCertificateCommand(request).ok).toBe(false);
  });

  it('refuses bad arguments', () => {
    expect(() => mseSetCommand('A4', new Uint8Array(0))).toThrow(RangeError);
    expect(() => mseSetCommand('A4', new Uint8Array(17))).toThrow(RangeError);
    expect(() => getChallengeCommand(0)).toThrow(RangeError);
    expect(() => getChallengeCommand(257)).toThrow(RangeError);
    expect(externalAuthenticateCommand(new Uint8Array(0)).ok).toBe(false);
    expect(externalAuthenticateCommand(new Uint8Array(63)).ok).toBe(false);
    expect(externalAuthenticateCommand(new Uint8Array(134)).ok).toBe(false);
  });

  it('signs CHR(T) ‖ challenge with 73 (docs/card-reference.md §6.6 step 4)', () => {
    const input = buildPkaSignatureInput(
      asciiBytes('DENK010493800000'),
      fromHex('0102030405060708'),
    );
    expect(toHex(input)).toBe(toHex(asciiBytes('DENK010493800000')) + '0102030405060708');
    expect(apduHex(value(signCommand(3, ALGO.ECDSA_SHA256, input)))).toBe(
      h(`80 68 03 73 18 ${toHex(input)} 00`),
    );
    expect(signCommand(0, ALGO.ECDSA_SHA256, input).ok).toBe(false);
    expect(signCommand(1, ALGO.ECDSA_PREHASHED, new Uint8Array(65)).ok).toBe(false);
    expect(signCommand(1, ALGO.RSA_RAW as never, input).ok).toBe(false);
    expect(signCommand(1, ALGO.ECDSA_SHA256, new Uint8Array(0)).ok).toBe(false);
  });

  it('keeps the PKA signature input strict', () => {
    expect(() => buildPkaSignatureInput(new Uint8Array(0), new Uint8Array(8))).toThrow();
    expect(() =>
      buildPkaSignatureInput(new Uint8Array(17).fill(0x41), new Uint8Array(8)),
    ).toThrow();
    expect(() => buildPkaSignatureInput(Uint8Array.of(0x41, 0x0a), new Uint8Array(8))).toThrow();
    expect(() => buildPkaSignatureInput(asciiBytes('DECC1'), new Uint8Array(0))).toThrow();
    expect(() => buildPkaSignatureInput(asciiBytes('DECC1'), new Uint8Array(257))).toThrow();
  });
});

describe('file commands (docs/card-reference.md §5.2, §8.1, appendix B)', () => {
  it('reads EF 2F02 whole and in chunks', () => {
    expect(apduHex(readBinaryCommand(FID.DEVICE_CERTIFICATES))).toBe(
      h('00 B1 2F 02 00 00 04 54 02 00 00 00 00'),
    );
    expect(apduHex(readBinaryCommand(objectFid(PREFIX.EE_CERT, 5)))).toBe(
      h('00 B1 CE 05 00 00 04 54 02 00 00 00 00'),
    );
    expect(apduHex(readBinaryCommand(0x2f02, 0x1234, 200))).toBe(
      h('00 B1 2F 02 04 54 02 12 34 C8'),
    );
    expect(() => readBinaryCommand(0x10000)).toThrow(RangeError);
    expect(() => readBinaryCommand(0x2f02, 0x10000)).toThrow(RangeError);
  });

  it('enumerates and deletes', () => {
    expect(apduHex(enumerateObjectsCommand())).toBe(h('80 58 00 00 00 00 00'));
    expect(apduHex(deleteFileCommand(0xc405))).toBe(h('00 E4 02 00 02 C4 05'));
  });

  it('splits UPDATE BINARY into chunks that fit the APDU limit', () => {
    const data = Uint8Array.from({ length: 2500 }, (_, i) => i & 0xff);
    const cmds = value(updateBinaryCommands(0xc401, data, { maxApdu: 1000 }));
    expect(cmds).toHaveLength(3);
    const rebuilt: number[] = [];
    let expectedOffset = 0;
    for (const c of cmds) {
      expect(apduHex(c).length / 2).toBeLessThanOrEqual(1000);
      const [off, body] = value(decodeTlvList(c.data));
      expect(off!.tag).toBe(0x54);
      expect((off!.value[0]! << 8) | off!.value[1]!).toBe(expectedOffset);
      expect(body!.tag).toBe(0x53);
      rebuilt.push(...body!.value);
      expectedOffset += body!.value.length;
    }
    expect(Uint8Array.from(rebuilt)).toEqual(data);
    expect(apduHex(value(updateBinaryCommands(0xc401, new Uint8Array(0)))[0]!)).toBe(
      h('00 D7 C4 01 06 54 02 00 00 53 00'),
    );
    expect(
      apduHex(value(updateBinaryCommands(0xc401, fromHex('aabb'), { offset: 0x10 }))[0]!),
    ).toBe(h('00 D7 C4 01 08 54 02 00 10 53 02 AA BB'));
    expect(updateBinaryCommands(0xc401, data, { maxApdu: 15 }).ok).toBe(false);
    expect(updateBinaryCommands(0xc401, new Uint8Array(10), { offset: 0xfffa }).ok).toBe(false);
  });
});

describe('GENERATE ASYMMETRIC KEY PAIR (docs/card-reference.md §7.1)', () => {
  it('carries the brainpoolP256r1 domain parameters of the SRCA', () => {
    const cmd = value(
      generateEcKeyCommand({
        keyId: 1,
        curve: 'brainpoolP256r1',
        chr: asciiBytes('UTCUSTODY00001'),
        outerCar: asciiBytes('UTCC1'),
        algorithms: PKA_KEY_ALGORITHMS,
      }),
    );
    expect([cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.ne]).toEqual([0x00, 0x46, 1, 0, 65536]);
    const tlvs = value(decodeTlvList(cmd.data));
    expect(tlvs.map((t) => t.tag)).toEqual([0x5f29, 0x7f49, 0x5f20, 0x45, 0x91]);
    expect(toHex(tlvs[0]!.value)).toBe('00');
    expect(toHex(tlvs[4]!.value)).toBe('73');
    // The SRCA's 7F49 holds the same parameters plus its own point 86 (appendix A).
    const srcaBody = value(decodeTlvList(value(decodeTlv(fromHex(DESRCACC100001))).value));
    const srcaKey = value(
      decodeTlvList(findTlv(value(decodeTlvList(srcaBody[0]!.value)), 0x7f49)!.value),
    );
    const expected = encodeTlv(0x7f49, ...srcaKey.filter((t) => t.tag !== 0x86).map((t) => t.raw));
    expect(toHex(tlvs[1]!.raw)).toBe(toHex(expected));
  });

  it('validates ids, references and metadata', () => {
    const base = { keyId: 1, curve: 'secp256r1' as const, chr: asciiBytes('UTX00001') };
    expect(generateEcKeyCommand({ ...base, keyId: 0 }).ok).toBe(false);
    expect(generateEcKeyCommand({ ...base, keyId: 256 }).ok).toBe(false);
    expect(generateEcKeyCommand({ ...base, chr: new Uint8Array(17) }).ok).toBe(false);
    expect(generateEcKeyCommand({ ...base, innerCar: new Uint8Array(0) }).ok).toBe(false);
    expect(generateEcKeyCommand({ ...base, algorithms: [] }).ok).toBe(false);
    expect(generateEcKeyCommand({ ...base, keyUseCounter: 0 }).ok).toBe(false);
    expect(generateEcKeyCommand({ ...base, signingKeyId: 256 }).ok).toBe(false);
    const full = value(
      generateEcKeyCommand({
        ...base,
        innerCar: asciiBytes('UTCA'),
        keyUseCounter: 5,
        keyDomain: 0,
        signingKeyId: 2,
      }),
    );
    expect(full.p2).toBe(2);
    const tags = value(decodeTlvList(full.data)).map((t) => t.tag);
    expect(tags).toEqual([0x5f29, 0x42, 0x7f49, 0x5f20, 0x90, 0x92]);
  });
});
