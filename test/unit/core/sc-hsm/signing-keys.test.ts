import { sha256 } from '@noble/hashes/sha2.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import { KeyOperationError } from '../../../../core/sc-hsm/keys';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { SIGNING_KEY_CURVES, type SigningKeyCurve } from '../../../../core/sc-hsm/signing-keys';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../../emulator/transport/in-process';
import { CardStatusError } from '../../../../shared/card/status-words';
import { asciiBytes, toHex } from '../../../../shared/codec/bytes';
import { curveByDomain } from '../../../../shared/crypto/curves';
import { derToPlain, verifyDigestPlain } from '../../../../shared/crypto/ecdsa';
import { parseAuthenticatedRequest } from '../../../../shared/cvc/cvc';
import { unwrap } from '../../../../shared/result';
import { ALGO } from '../../../../shared/sc-hsm/constants';
import { signCommand } from '../../../../shared/sc-hsm/sign';
import { ScriptedChannel } from './scripted-channel';

const PIN = '648219';
const ca = generateTestCa();
let serial = 900;

/** A fresh emulated card, initialized, with the PIN verified unless `login` is false. */
async function session(login = true): Promise<SmartCardHsm> {
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial: serial++ }));
  const hsm = new SmartCardHsm(new ApduChannel(createInProcessTransport(card)));
  await hsm.select();
  await hsm.initialize({ soPin: '3537363231383830', userPin: asciiBytes(PIN) });
  if (login) await hsm.verifyPin(asciiBytes(PIN));
  return hsm;
}

describe('generateSigningKey + signHash (docs/card-reference.md §7, §8.3)', () => {
  let hsm: SmartCardHsm;
  beforeEach(async () => {
    hsm = await session();
  });

  it.each(SIGNING_KEY_CURVES)('%s: signs hashes that verify with the request key', async (name) => {
    const gen = await hsm.generateSigningKey({ label: `release ${name}`, curve: name });
    const device = (await hsm.deviceCertificates()).device.body.chr;
    expect(gen.keyId).toBe(1);
    expect(gen.chr).toBe(`${device.slice(0, -5)}00001`);
    const req = unwrap(parseAuthenticatedRequest(gen.request));
    expect(req.inner.body.chr).toBe(gen.chr);
    const pk = req.inner.body.publicKey;
    const curve = curveByDomain(pk.domain!)!;
    expect(curve.name).toBe(name);
    // CE<id> keeps the same request; the listing shows label and curve.
    expect(toHex((await hsm.readKeyObject(gen.keyId))!)).toBe(toHex(gen.request));
    expect(await hsm.listKeys()).toMatchObject([
      { id: 1, label: `release ${name}`, chr: gen.chr, curve: name, size: 256 },
    ]);
    const hash = sha256(asciiBytes('release artefact'));
    const der = await hsm.signHash(gen.keyId, hash);
    const plain = unwrap(derToPlain(der, curve.orderBytes));
    expect(verifyDigestPlain(curve, pk.point!, hash, plain)).toBe(true);
    const other = sha256(asciiBytes('another artefact'));
    expect(verifyDigestPlain(curve, pk.point!, other, plain)).toBe(false);
  });

  it('takes the next free id and CHR, and restricts the key to hash signing', async () => {
    await hsm.generateCustodianKey({ label: 'pka' });
    const gen = await hsm.generateSigningKey({ label: 'signer', curve: 'secp256r1' });
    expect(gen.keyId).toBe(2);
    expect(gen.chr.endsWith('00002')).toBe(true);
    // The card itself refuses any other algorithm for this key (`91` list, docs/card-reference.md §7.1).
    const r = await hsm.channel.send(
      unwrap(signCommand(gen.keyId, ALGO.ECDSA_SHA256, asciiBytes('data'))),
    );
    expect(r.sw).not.toBe(0x9000);
    expect(r.data.length).toBe(0);
  });

  it('refuses a taken CHR before touching the card', async () => {
    const first = await hsm.generateSigningKey({ label: 'a', curve: 'secp256r1' });
    await expect(
      hsm.generateSigningKey({ label: 'b', curve: 'secp256r1', chr: first.chr }),
    ).rejects.toThrow(/already used/);
    expect((await hsm.listKeys()).map((k) => k.id)).toEqual([1]);
  });

  it('needs the user authenticated (6982 without PIN or quorum)', async () => {
    const locked = await session(false);
    const e = await locked
      .generateSigningKey({ label: 'x', curve: 'secp256r1' })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CardStatusError);
    expect((e as CardStatusError).sw).toBe(0x6982);
    expect(await locked.listKeys()).toEqual([]);
  });
});

describe('argument checks send nothing', () => {
  it('refuses other curves, bad key ids and bad hash lengths', async () => {
    const ch = new ScriptedChannel([]);
    const hsm = new SmartCardHsm(ch);
    for (const curve of ['secp384r1', 'brainpoolP512r1', 'x']) {
      await expect(
        hsm.generateSigningKey({ label: 'k', curve: curve as SigningKeyCurve }),
      ).rejects.toBeInstanceOf(KeyOperationError);
    }
    await expect(hsm.signHash(0, new Uint8Array(32))).rejects.toBeInstanceOf(KeyOperationError);
    await expect(hsm.signHash(1, new Uint8Array(0))).rejects.toBeInstanceOf(KeyOperationError);
    await expect(hsm.signHash(1, new Uint8Array(65))).rejects.toBeInstanceOf(KeyOperationError);
    await expect(hsm.readKeyObject(256)).rejects.toBeInstanceOf(KeyOperationError);
    expect(ch.sent).toEqual([]);
  });

  it('signs over 80 68 <kid> 70 and reads CE<id>, absent as undefined', async () => {
    const hash = sha256(asciiBytes('x'));
    const ch = new ScriptedChannel([
      { cmd: `8068037020${toHex(hash)}00`, data: '3006020101020101', sw: 0x9000 },
      { cmd: '00b1ce03*', sw: 0x6a82 },
      { cmd: '80680370*', sw: 0x6982 },
    ]);
    const hsm = new SmartCardHsm(ch);
    expect(toHex(await hsm.signHash(3, hash))).toBe('3006020101020101');
    expect(await hsm.readKeyObject(3)).toBeUndefined();
    const e = await hsm.signHash(3, hash).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CardStatusError);
    expect((e as CardStatusError).operation).toBe('SIGN with key 3');
    expect(ch.done).toBe(true);
  });
});
