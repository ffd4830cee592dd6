import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { CardStatusError } from '../../../../shared/card/status-words';
import { CardTransportError } from '../../../../core/card/transport';
import { readEf, writeEf } from '../../../../core/sc-hsm/card-io';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { ScriptedChannel } from './scripted-channel';

const AID = 'e82b0601040181c31f0201';
const SELECT = `00a404040b${AID}00`;
const FCP = `6217820138840b${AID}85050001ff0306`;

describe('SmartCardHsm.select', () => {
  it('parses version and options from the FCP', async () => {
    const ch = new ScriptedChannel([{ cmd: SELECT, data: FCP, sw: 0x9000 }]);
    const hsm = new SmartCardHsm(ch);
    expect(await hsm.select()).toEqual({ version: { major: 3, minor: 6 }, type: 0xff, options: 1 });
  });

  it('reports a card without the applet as not-sc-hsm', async () => {
    for (const step of [
      { cmd: SELECT, sw: 0x6a82 },
      { cmd: SELECT, data: '6f00', sw: 0x9000 },
    ]) {
      const hsm = new SmartCardHsm(new ScriptedChannel([step]));
      const e = await hsm.select().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CardTransportError);
      expect((e as CardTransportError).code).toBe('not-sc-hsm');
    }
  });
});

describe('SmartCardHsm.verifyPin', () => {
  it('sends the PIN once, reports tries left and wipes the buffer', async () => {
    const ch = new ScriptedChannel([{ cmd: '0020008106363438323138', sw: 0x63c2 }]);
    const pin = asciiBytes('648218');
    const status = await new SmartCardHsm(ch).verifyPin(pin);
    expect(status).toEqual({ state: 'not-verified', retries: 2 });
    expect(toHex(pin)).toBe('000000000000');
    expect(toHex(ch.commands[0]!.data)).toBe('000000000000');
    expect(ch.done).toBe(true);
  });

  it('returns verified, and throws on other refusals after wiping', async () => {
    const okPin = asciiBytes('648219');
    expect(
      await new SmartCardHsm(new ScriptedChannel([{ cmd: '00200081*', sw: 0x9000 }])).verifyPin(
        okPin,
      ),
    ).toEqual({
      state: 'verified',
    });
    const pin = asciiBytes('648219');
    const e = await new SmartCardHsm(new ScriptedChannel([{ cmd: '00200081*', sw: 0x6a88 }]))
      .verifyPin(pin)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CardStatusError);
    expect((e as CardStatusError).operation).toBe('VERIFY PIN');
    expect(toHex(pin)).toBe('000000000000');
    const short = asciiBytes('123');
    await expect(new SmartCardHsm(new ScriptedChannel([])).verifyPin(short)).rejects.toThrow(
      RangeError,
    );
    expect(toHex(short)).toBe('000000');
  });
});

describe('EF access', () => {
  it('reads a whole EF with one extended READ BINARY', async () => {
    const ch = new ScriptedChannel([
      { cmd: '00b12f0200000454020000 0000', data: 'aabbcc', sw: 0x9000 },
    ]);
    expect(toHex((await readEf(ch, 0x2f02, 'read'))!)).toBe('aabbcc');
  });

  it('reads in 256-byte chunks over short APDUs until the end', async () => {
    const a = '11'.repeat(256);
    const b = '22'.repeat(256);
    const ch = new ScriptedChannel(
      [
        { cmd: '00b12f02045402000000', data: a, sw: 0x9000 },
        { cmd: '00b12f02045402010000', data: b, sw: 0x9000 },
        { cmd: '00b12f02045402020000', data: '33', sw: 0x6282 },
      ],
      false,
    );
    expect(toHex((await readEf(ch, 0x2f02, 'read'))!)).toBe(a + b + '33');
    const exact = new ScriptedChannel(
      [
        { cmd: '00b1c401045402000000', data: a, sw: 0x9000 },
        { cmd: '00b1c401045402010000', sw: 0x6b00 },
      ],
      false,
    );
    expect((await readEf(exact, 0xc401, 'read'))!.length).toBe(256);
  });

  it('maps a missing EF to undefined and other errors to CardStatusError', async () => {
    expect(
      await readEf(new ScriptedChannel([{ cmd: '00b1ce01*', sw: 0x6a82 }]), 0xce01, 'read'),
    ).toBeUndefined();
    await expect(
      readEf(new ScriptedChannel([{ cmd: '00b1cd01*', sw: 0x6982 }]), 0xcd01, 'read'),
    ).rejects.toThrow(/read failed: 6982/);
  });

  it('writes in chunks small enough for short APDUs', async () => {
    const data = new Uint8Array(300).fill(0x5a);
    const ch = new ScriptedChannel(
      [
        { cmd: '00d7c401ff540200005381f8*', sw: 0x9000 },
        { cmd: '00d7c4013a540200f85334*', sw: 0x9000 },
      ],
      false,
    );
    await writeEf(ch, 0xc401, data, 'write');
    expect(ch.commands.map((c) => c.data.length)).toEqual([255, 4 + 2 + 52]);
  });
});

describe('PKA status and authentication pieces', () => {
  it('reads status, treats "not configured" as undefined', async () => {
    const hsm = new SmartCardHsm(
      new ScriptedChannel([
        { cmd: '8054000004', data: '03010200', sw: 0x9000 },
        { cmd: '8054000004', sw: 0x6d00 },
        { cmd: '8054000004', sw: 0x6a86 },
      ]),
    );
    expect(await hsm.pkaStatus()).toEqual({ m: 3, missing: 1, n: 2, authenticated: 0 });
    expect(await hsm.pkaStatus()).toBeUndefined();
    expect(await hsm.pkaStatus()).toBeUndefined();
  });

  it('names the failing step', async () => {
    const chr = asciiBytes('UTCUST0000100001');
    const hsm = new SmartCardHsm(
      new ScriptedChannel([
        { cmd: '00228 1a4 12 83 10' + toHex(chr), sw: 0x6a88 },
        { cmd: '0084000008', data: '0102030405060708', sw: 0x9000 },
        { cmd: '0084000008', data: '0102', sw: 0x9000 },
        { cmd: '0082000040*', sw: 0x6985 },
      ]),
    );
    await expect(hsm.selectPkaKey(chr)).rejects.toThrow(
      /MSE SET AT \(select PKA key\) failed: 6A88/,
    );
    expect(toHex(await hsm.getChallenge())).toBe('0102030405060708');
    await expect(hsm.getChallenge()).rejects.toThrow(/2 bytes, expected 8/);
    await expect(hsm.externalAuthenticate(new Uint8Array(64))).rejects.toThrow(
      /EXTERNAL AUTHENTICATE failed: 6985/,
    );
    await expect(hsm.externalAuthenticate(new Uint8Array(0))).rejects.toThrow(/plain signature/);
  });
});

describe('info', () => {
  it('collects version, PIN, SO-PIN, PKA and 2F02', async () => {
    const chain = concatBytes(fromHex('7f2100'), fromHex('7f2100'));
    const hsm = new SmartCardHsm(
      new ScriptedChannel([
        { cmd: SELECT, data: FCP, sw: 0x9000 },
        { cmd: '00200081', sw: 0x6300 },
        { cmd: '00200088', sw: 0x63c5 },
        { cmd: '8054000004', data: '02020100', sw: 0x9000 },
        { cmd: '00b12f02*', data: toHex(chain), sw: 0x9000 },
      ]),
    );
    expect(await hsm.info()).toEqual({
      version: { major: 3, minor: 6 },
      options: 1,
      initialized: true,
      pin: { state: 'pka-active' },
      soPin: { state: 'not-verified', retries: 5 },
      pka: { m: 2, missing: 2, n: 1, authenticated: 0 },
      deviceChain: chain,
    });
  });

  it('reports a factory-fresh device as not initialized without asking for PKA', async () => {
    const hsm = new SmartCardHsm(
      new ScriptedChannel([
        { cmd: SELECT, data: FCP, sw: 0x9000 },
        { cmd: '00200081', sw: 0x6a88 },
        { cmd: '00200088', sw: 0x6a88 },
        { cmd: '00b12f02*', sw: 0x6a82 },
      ]),
    );
    const info = await hsm.info();
    expect(info.initialized).toBe(false);
    expect(info.pka).toBeUndefined();
    expect(info.deviceChain).toBeUndefined();
  });
});

describe('info on old firmware', () => {
  it('omits an SO-PIN status the card does not support and falls back to the user PIN', async () => {
    const hsm = new SmartCardHsm(
      new ScriptedChannel([
        { cmd: SELECT, data: '620485020110', sw: 0x9000 },
        { cmd: '00200081', sw: 0x63c3 },
        { cmd: '00200088', sw: 0x6f00 },
        { cmd: '8054000004', sw: 0x6d00 },
        { cmd: '00b12f02*', sw: 0x6a82 },
      ]),
    );
    const info = await hsm.info();
    expect(info).toEqual({
      version: { major: 1, minor: 16 },
      initialized: true,
      pin: { state: 'not-verified', retries: 3 },
    });
  });
});
