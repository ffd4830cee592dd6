import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { curveByName, publicKeyFromPrivate } from '../../../../shared/crypto/curves';
import { hashBytes } from '../../../../shared/crypto/ecdsa';
import { parseAuthenticatedRequest, parseCvc, type Cvc } from '../../../../shared/cvc/cvc';
import { anchorFromCvc, validateDeviceChain } from '../../../../shared/cvc/chain';
import { formatCvcDate } from '../../../../shared/cvc/date';
import { keyOf, verifyCvc, verifySelfSigned } from '../../../../shared/cvc/verify';
import { encodeOldPkaFile, parsePkaFile } from '../../../../shared/pka/pka-file';
import {
  PICO_AUT_KEY_HEX,
  PICO_AUT_PUK_HEX,
  PICO_CA1_HEX,
  PICO_CA2_HEX,
  PICO_DICA_HEX,
  PICO_TERM_HEX,
} from '../../../fixtures/cvc/pico-vectors';

const cvc = (hex: string): Cvc => {
  const r = parseCvc(fromHex(hex));
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

/** Independent secp256k1 check (not a supported curve here) of a plain r‖s over `data`. */
const k1Verify = (point: Uint8Array, data: Uint8Array, sig: Uint8Array): boolean =>
  secp256k1.verify(sig, hashBytes('sha256', data), point, { prehash: false, lowS: false });

describe('Pico HSM public vectors (docs/card-reference.md §6.8)', () => {
  const ca2 = cvc(PICO_CA2_HEX);
  const dica = cvc(PICO_DICA_HEX);
  const term = cvc(PICO_TERM_HEX);
  const req = parseAuthenticatedRequest(fromHex(PICO_AUT_PUK_HEX));
  if (!req.ok) throw new Error(req.error.message);
  const aut = req.value;

  it('parses the chain and the request with the documented names', () => {
    expect(ca2.body.chr).toBe('ESPICOHSMCA00002');
    expect(dica.body.car).toBe('ESPICOHSMCA00002');
    expect(dica.body.chr).toBe('ESPICOHSMDV00002');
    expect(term.body.car).toBe('ESPICOHSMDV00002');
    expect(term.body.chr).toBe('ESPICOHSMTRLRA4C');
    expect(term.body.publicKey.domain).toBeUndefined();
    expect(formatCvcDate(term.body.effective!)).toMatch(/^20\d\d-\d\d-\d\d$/);
    expect(aut.outerCar).toBe('ESPICOHSMTRLRA4C');
    expect(aut.content.length).toBe(0x1ed);
    expect(toHex(aut.content.subarray(0, 5))).toBe('7f21820193');
  });

  it('inner self-signature over 7F4E verifies with the contained brainpoolP256r1 key', () => {
    expect(verifySelfSigned(aut.inner)).toBe(true);
    const k = keyOf(aut.inner);
    expect(k.ok && k.value.curve.name).toBe('brainpoolP256r1');
    // The published private key derives exactly the point in the request.
    const point = publicKeyFromPrivate(curveByName('brainpoolP256r1'), fromHex(PICO_AUT_KEY_HEX));
    expect(toHex(aut.inner.body.publicKey.point!)).toBe(toHex(point));
  });

  it('outer signature covers 7F21 TLV ‖ 42 TLV and verifies with the device key', () => {
    const device = term.body.publicKey.point!;
    expect(
      k1Verify(device, concatBytes(aut.inner.encoded, aut.outerCarTlv), aut.outerSignature),
    ).toBe(true);
    // Not over the inner request alone, and not with the DICA key.
    expect(k1Verify(device, aut.inner.encoded, aut.outerSignature)).toBe(false);
    expect(
      k1Verify(
        dica.body.publicKey.point!,
        concatBytes(aut.inner.encoded, aut.outerCarTlv),
        aut.outerSignature,
      ),
    ).toBe(false);
  });

  it('certificate signatures cover the 7F4E TLV (checked independently on secp256k1)', () => {
    expect(k1Verify(ca2.body.publicKey.point!, ca2.bodyTlv, ca2.signature)).toBe(true);
    expect(k1Verify(ca2.body.publicKey.point!, dica.bodyTlv, dica.signature)).toBe(true);
    expect(k1Verify(dica.body.publicKey.point!, term.bodyTlv, term.signature)).toBe(true);
  });

  it('secp256k1 (supported since issue 13) verifies the Pico chain here too; an unknown curve is unsupported, not a forgery', () => {
    const anchor = anchorFromCvc(fromHex(PICO_CA2_HEX), 'pico');
    expect(anchor.ok).toBe(true);
    const root = keyOf(ca2);
    expect(root.ok && root.value.curve.name).toBe('secp256k1');
    if (!root.ok) return;
    expect(verifyCvc(dica, root.value)).toBe(true);
    const k = keyOf(term);
    expect(k).toMatchObject({ ok: false, error: { code: 'structure' } }); // no domain, none inherited
    const dv = keyOf(dica, ca2.body.publicKey.domain);
    expect(dv.ok && verifyCvc(term, dv.value)).toBe(true);
    const domain = ca2.body.publicKey.domain!;
    expect(keyOf(term, { ...domain, b: domain.b + 1n })).toMatchObject({
      ok: false,
      error: { code: 'unsupported' },
    });
  });

  it('the P-256 root ESPICOHSMCA00001 is a valid configurable anchor; it did not issue DV00002', () => {
    const a = anchorFromCvc(fromHex(PICO_CA1_HEX), 'pico CA1');
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    const k = keyOf(a.value.cvc);
    expect(k.ok && k.value.curve.name).toBe('secp256r1');
    expect(k.ok && verifyCvc(dica, k.value)).toBe(false);
    const v = validateDeviceChain(
      concatBytes(term.encoded, dica.encoded),
      [a.value],
      new Date('2026-01-01'),
    );
    expect(v).toMatchObject({ genuine: false, code: 'unknown-root' });
  });

  it('an old-format PKA file of the vectors round-trips', () => {
    const bytes = encodeOldPkaFile({ request: aut, device: term, dica });
    const r = parsePkaFile(bytes);
    expect(r.ok && r.value.device.body.chr).toBe('ESPICOHSMTRLRA4C');
    expect(r.ok && toHex(r.value.request.content)).toBe(toHex(aut.content));
  });
});
