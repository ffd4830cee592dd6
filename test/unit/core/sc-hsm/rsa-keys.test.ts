/**
 * Issue 8 §1, core: RSA signing keys generated through SmartCardHsm on the emulated card, listed
 * with type and size, restricted to PKCS#1 v1.5 / PSS over a supplied hash, and every signature
 * checked by node:crypto against the public key in the attested request.
 */
import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import { KeyOperationError } from '../../../../core/sc-hsm/keys';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../../emulator/transport/in-process';
import { CardStatusError } from '../../../../shared/card/status-words';
import { asciiBytes, concatBytes, fromHex } from '../../../../shared/codec/bytes';
import { parseAuthenticatedRequest } from '../../../../shared/cvc/cvc';
import { unwrap } from '../../../../shared/result';
import { RSA_KEY_SIZES, type RsaKeySize } from '../../../../shared/sc-hsm/rsa';

const PIN = '648219';
const ca = generateTestCa();
let serial = 950;

async function session(): Promise<{ hsm: SmartCardHsm; card: EmulatedSmartCardHsm }> {
  const card = new EmulatedSmartCardHsm(createDeviceState(ca, { serial: serial++ }));
  const hsm = new SmartCardHsm(new ApduChannel(createInProcessTransport(card)));
  await hsm.select();
  await hsm.initialize({ soPin: '3537363231383830', userPin: asciiBytes(PIN) });
  await hsm.verifyPin(asciiBytes(PIN));
  return { hsm, card };
}

function publicKeyOf(request: Uint8Array): KeyObject {
  const pk = unwrap(parseAuthenticatedRequest(request)).inner.body.publicKey;
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  return createPublicKey({
    key: { kty: 'RSA', n: b64(pk.modulus!), e: b64(pk.exponent!) },
    format: 'jwk',
  });
}

const digest = (data: string, hash = 'sha256') =>
  new Uint8Array(createHash(hash).update(data).digest());

describe('RSA signing keys (docs/card-reference.md §15.6)', () => {
  let hsm: SmartCardHsm;
  let card: EmulatedSmartCardHsm;
  beforeEach(async () => {
    ({ hsm, card } = await session());
  });

  it.each(RSA_KEY_SIZES)(
    '%i bits: generated, listed, and PKCS#1 v1.5 + PSS verify',
    async (bits) => {
      const gen = await hsm.generateRsaSigningKey({ label: `release rsa ${bits}`, bits });
      expect(gen.keyId).toBe(1);
      const pub = publicKeyOf(gen.request);
      expect(pub.asymmetricKeyDetails?.modulusLength).toBe(bits);
      expect(await hsm.listKeys()).toMatchObject([
        {
          id: 1,
          label: `release rsa ${bits}`,
          chr: gen.chr,
          type: 'rsa',
          size: bits,
          hasRequest: true,
        },
      ]);
      const d = digest('artefact');
      const sig = await hsm.signRsaDigest(gen.keyId, 'pkcs1', 'sha256', d);
      expect(sig.length * 8).toBe(bits);
      const pkcs1 = { key: pub, padding: constants.RSA_PKCS1_PADDING };
      expect(verify('sha256', asciiBytes('artefact'), pkcs1, sig)).toBe(true);
      expect(verify('sha256', asciiBytes('other'), pkcs1, sig)).toBe(false);
      const pss = await hsm.signRsaDigest(gen.keyId, 'pss', 'sha384', digest('artefact', 'sha384'));
      const pssKey = { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 };
      expect(verify('sha384', asciiBytes('artefact'), pssKey, pss)).toBe(true);
      const di = concatBytes(fromHex('3031300d060960864801650304020105000420'), d);
      const raw = await hsm.signRsaPkcs1(gen.keyId, di);
      expect(raw).toEqual(sig); // PKCS#1 v1.5 is deterministic
    },
    120_000,
  );

  it('the key may only do 30 and 40: raw RSA and card-side hashing are refused by the card', async () => {
    const gen = await hsm.generateRsaSigningKey({ label: 'r', bits: 2048 });
    expect([...card.state.keys.get(gen.keyId)!.algorithms!]).toEqual([0x30, 0x40]);
    // Straight to the card in the same logged-in session: 20 (raw) and 33 (card hashes) are
    // outside the key's 91 list.
    const raw = (algo: number, data: Uint8Array) =>
      card.process(
        Uint8Array.of(
          0x80,
          0x68,
          gen.keyId,
          algo,
          0x00,
          data.length >> 8,
          data.length & 0xff,
          ...data,
          0x00,
          0x00,
        ),
      );
    expect(raw(0x20, new Uint8Array(256))).toEqual(Uint8Array.of(0x6a, 0x81));
    expect(raw(0x33, asciiBytes('m'))).toEqual(Uint8Array.of(0x6a, 0x81));
  });

  it('refuses sizes that are not offered and digests of the wrong length, before the card', async () => {
    for (const bits of [1024, 1536, 8192, 0]) {
      await expect(
        hsm.generateRsaSigningKey({ label: 'x', bits: bits as RsaKeySize }),
      ).rejects.toBeInstanceOf(KeyOperationError);
    }
    expect(card.state.keys.size).toBe(0);
    await expect(
      hsm.signRsaDigest(1, 'pkcs1', 'sha256', new Uint8Array(31)),
    ).rejects.toBeInstanceOf(KeyOperationError);
    await expect(hsm.signRsaPkcs1(1, new Uint8Array(502))).rejects.toBeInstanceOf(
      KeyOperationError,
    );
  });

  it('an EC key refuses RSA signing with 6A81', async () => {
    await hsm.generateSigningKey({ label: 'ec', curve: 'secp256r1' });
    const e = await hsm.signRsaDigest(1, 'pkcs1', 'sha256', digest('x')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CardStatusError);
    expect((e as CardStatusError).sw).toBe(0x6a81);
  });
});
