/**
 * Issue 13: every curve OpenSC's SmartCard-HSM driver offers (docs/card-reference.md §4.3) is
 * generated from explicit domain parameters in `7F49`, attested, signs with ECDSA (card-side
 * hash and supplied hash), and survives the state file. Before the fix secp256k1, secp192k1 and
 * the 192/224/320-bit and twisted brainpool curves were refused with 6A80.
 */
import { createPublicKey, createVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { CURVE_NAMES, curveByName } from '../../../shared/crypto/curves';
import { derToPlain, verifyDigestPlain, verifyPlain } from '../../../shared/crypto/ecdsa';
import { parseAuthenticatedRequest } from '../../../shared/cvc/cvc';
import { verifySelfSigned } from '../../../shared/cvc/verify';
import { ecSpkiDer } from '../../../server/sign/spki';
import { stateFromJson, stateToJson } from '../../../emulator/card/state-file';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { encodePublicKey } from '../../../shared/cvc/encode';
import { ID_TA_ECDSA_SHA_256 } from '../../../shared/cvc/oids';
import { generateKey, initAndLogin, newCard } from './helpers';

describe('GENERATE ASYMMETRIC KEY PAIR and SIGN on every curve OpenSC offers', () => {
  const h = newCard();
  initAndLogin(h);
  const msg = asciiBytes('issue 13: every curve');

  it.each(CURVE_NAMES.map((name, i) => ({ name, kid: i + 1 })))(
    '$name: attested request, ECDSA verifies here and in OpenSSL',
    ({ name, kid }) => {
      const curve = curveByName(name);
      const req = parseAuthenticatedRequest(
        generateKey(h, kid, `UTCURVE${String(kid).padStart(5, '0')}`, name),
      );
      if (!req.ok) throw new Error(req.error.message);
      expect(verifySelfSigned(req.value.inner)).toBe(true);
      const point = req.value.inner.body.publicKey.point!;
      expect(point.length).toBe(1 + 2 * curve.fieldBytes);
      expect(h.state.keys.get(kid)!.curve).toBe(name);

      const der = h.expectSw(0x9000, 0x80, 0x68, kid, 0x73, msg, 256);
      const plain = derToPlain(der, curve.orderBytes);
      if (!plain.ok) throw new Error(plain.error.message);
      expect(verifyPlain(curve, point, msg, plain.value, 'sha256')).toBe(true);
      // OpenSSL, an independent implementation, agrees (named-curve SPKI, DER signature).
      const pub = createPublicKey({
        key: Buffer.from(ecSpkiDer(name, point)),
        format: 'der',
        type: 'spki',
      });
      expect(createVerify('sha256').update(msg).verify(pub, der)).toBe(true);
      expect(createVerify('sha256').update(asciiBytes('other')).verify(pub, der)).toBe(false);

      const digest = new Uint8Array(Math.min(curve.orderBytes, 64)).fill(0x5a);
      const der70 = h.expectSw(0x9000, 0x80, 0x68, kid, 0x70, digest, 256);
      const plain70 = derToPlain(der70, curve.orderBytes);
      expect(plain70.ok && verifyDigestPlain(curve, point, digest, plain70.value)).toBe(true);
    },
  );

  it('keys on every curve survive the state file and still sign', () => {
    const restored = stateFromJson(stateToJson(h.state));
    expect([...restored.keys.values()].map((k) => k.curve)).toEqual([...CURVE_NAMES]);
    const kid = CURVE_NAMES.indexOf('secp256k1') + 1;
    const again = new EmulatedSmartCardHsm(restored);
    again.powerOn();
    expect(again.state.keys.get(kid)).toEqual(h.state.keys.get(kid));
  });

  it('a domain that matches none of them is still refused with 6A80', () => {
    const d = curveByName('secp256k1').domain;
    const template = concatBytes(
      encodeTlv(0x5f29, Uint8Array.of(0)),
      encodePublicKey({ oid: ID_TA_ECDSA_SHA_256, domain: { ...d, b: d.b ^ 1n } }),
      encodeTlv(0x5f20, asciiBytes('UTBADCURVE001')),
    );
    h.expectSw(0x6a80, 0x00, 0x46, 0xf0, 0x00, template, 65536);
    expect(h.state.keys.has(0xf0)).toBe(false);
  });
});
