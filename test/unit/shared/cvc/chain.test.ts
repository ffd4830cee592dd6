import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { encodeTlv } from '../../../../shared/codec/tlv';
import { parseAuthenticatedRequest, parseCvc } from '../../../../shared/cvc/cvc';
import {
  buildAuthenticatedRequest,
  encodeCvcBody,
  signCertificate,
} from '../../../../shared/cvc/encode';
import {
  PRODUCTION_ROOT_CHR,
  anchorFromCvc,
  productionAnchor,
  splitDeviceCertificates,
  validateDeviceChain,
  verifyKeyAttestation,
  type ChainVerdict,
  type TrustAnchor,
} from '../../../../shared/cvc/chain';
import { ID_TA_ECDSA_SHA_256 } from '../../../../shared/cvc/oids';
import { DESRCACC100001_HEX, UTSRCACC100001_HEX } from '../../../fixtures/cvc/roots';
import { buildSyntheticChain, type SyntheticChain } from '../../../fixtures/cvc/synthetic';

const NOW = new Date('2026-06-01T12:00:00Z');

function anchorOf(s: SyntheticChain): TrustAnchor {
  const a = anchorFromCvc(s.root, 'synthetic test root');
  if (!a.ok) throw new Error(a.error.message);
  return a.value;
}

function genuine(v: ChainVerdict): Extract<ChainVerdict, { genuine: true }> {
  if (!v.genuine) throw new Error(`${v.code}: ${v.message}`);
  return v;
}

/** Flips one bit inside the 5F37 signature of a 7F21 certificate. */
function breakSignature(cvc: Uint8Array): Uint8Array {
  const t = cvc.slice();
  t[t.length - 10]! ^= 0x01;
  return t;
}

describe('trust anchors (docs/card-reference.md §5.3)', () => {
  it('the production root is built in and byte-identical to appendix A', () => {
    const a = productionAnchor();
    expect(a.source).toBe('built-in');
    expect(a.cvc.body.chr).toBe(PRODUCTION_ROOT_CHR);
    expect(toHex(a.cvc.encoded)).toBe(DESRCACC100001_HEX.toLowerCase());
  });

  it('UTSRCACC100001 is not an anchor by default but can be configured', () => {
    const ut = anchorFromCvc(fromHex(UTSRCACC100001_HEX), 'test SRCA');
    expect(ut.ok).toBe(true);
    if (!ut.ok) return;
    expect(ut.value.source).toBe('configured');
    expect(ut.value.cvc.body.chr).toBe('UTSRCACC100001');
    // A chain under a root named UTSRCACC100001 is unknown to the default anchors …
    const s = buildSyntheticChain({ rootChr: 'UTSRCACC100001' });
    const v = validateDeviceChain(s.ef2f02, [productionAnchor()], NOW);
    expect(v).toMatchObject({ genuine: false, code: 'unknown-root' });
    if (!v.genuine) expect(v.message).toContain('UTSRCACC100001');
    // … and configuring the real UT root does not make a forged chain with that name genuine.
    const forged = validateDeviceChain(s.ef2f02, [productionAnchor(), ut.value], NOW);
    expect(forged).toMatchObject({ genuine: false, code: 'bad-dica-signature' });
  });

  it('a configured root cannot impersonate the production root', () => {
    const fake = buildSyntheticChain({ rootChr: PRODUCTION_ROOT_CHR });
    expect(anchorFromCvc(fake.root, 'fake')).toMatchObject({
      ok: false,
      error: { code: 'conflicts-with-built-in' },
    });
    // The genuine bytes may be configured explicitly (harmless duplicate).
    expect(anchorFromCvc(fromHex(DESRCACC100001_HEX), 'explicit').ok).toBe(true);
  });

  it('anchorFromCvc rejects non-self-signed, bad signature and garbage', () => {
    const s = buildSyntheticChain();
    expect(anchorFromCvc(s.dica, 'x')).toMatchObject({
      ok: false,
      error: { code: 'not-self-signed' },
    });
    expect(anchorFromCvc(breakSignature(s.root), 'x')).toMatchObject({
      ok: false,
      error: { code: 'not-self-signed' },
    });
    expect(anchorFromCvc(s.root.subarray(1), 'x')).toMatchObject({
      ok: false,
      error: { code: 'malformed' },
    });
  });
});

describe('splitDeviceCertificates (docs/card-reference.md §5.2)', () => {
  const s = buildSyntheticChain();

  it('splits device ‖ DICA and tolerates zero padding', () => {
    const r = splitDeviceCertificates(concatBytes(s.ef2f02, new Uint8Array(64)));
    expect(r.ok && r.value.device.body.chr).toBe(s.chrs.device);
    expect(r.ok && r.value.dica.body.chr).toBe(s.chrs.dica);
  });

  it('fuzz: never throws on random and mutated input', () => {
    const mutated = fc
      .tuple(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
      )
      .map(([edits, cut]) => {
        const b = concatBytes(s.ef2f02, new Uint8Array(8));
        for (const [i, v] of edits) b[i % b.length] = v;
        return cut % 4 === 0 ? b.subarray(0, cut % b.length) : b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 900 }), mutated), (b) => {
        const r = splitDeviceCertificates(b);
        return r.ok || r.error.code === 'malformed';
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects a missing DICA, non-zero trailing bytes and truncation', () => {
    expect(splitDeviceCertificates(s.device).ok).toBe(false);
    expect(splitDeviceCertificates(concatBytes(s.ef2f02, fromHex('0001'))).ok).toBe(false);
    expect(splitDeviceCertificates(concatBytes(s.ef2f02, fromHex('ff'))).ok).toBe(false);
    expect(splitDeviceCertificates(s.ef2f02.subarray(0, s.ef2f02.length - 1)).ok).toBe(false);
    expect(splitDeviceCertificates(new Uint8Array(0)).ok).toBe(false);
  });
});

describe('validateDeviceChain', () => {
  const s = buildSyntheticChain();
  const anchors = [productionAnchor(), anchorOf(s)];

  it('accepts a genuine synthetic chain and reports id, path and key', () => {
    const v = genuine(validateDeviceChain(s.ef2f02, anchors, NOW));
    expect(v.anchor.label).toBe('synthetic test root');
    expect(v.deviceId).toBe(s.chrs.device);
    expect(toHex(v.deviceIdBytes)).toBe(toHex(new TextEncoder().encode(s.chrs.device)));
    expect(v.path).toBe('/UTSRCATEST/UTDICATEST/UTCC1209355');
    expect(toHex(v.deviceKey.point)).toBe(toHex(s.keys.device.publicKey));
    expect(v.deviceKey.curve.name).toBe('brainpoolP256r1');
    expect(v.warnings).toEqual([]);
  });

  it('works on secp256r1 chains as well (domain inherited from the root)', () => {
    const p = buildSyntheticChain({ chainCurve: 'secp256r1' });
    expect(genuine(validateDeviceChain(p.ef2f02, [anchorOf(p)], NOW)).deviceKey.curve.name).toBe(
      'secp256r1',
    );
  });

  it('fails with the exact code for each kind of tampering', () => {
    const dicaBad = concatBytes(s.device, breakSignature(s.dica));
    expect(validateDeviceChain(dicaBad, anchors, NOW)).toMatchObject({
      genuine: false,
      code: 'bad-dica-signature',
    });
    const devBad = concatBytes(breakSignature(s.device), s.dica);
    expect(validateDeviceChain(devBad, anchors, NOW)).toMatchObject({
      genuine: false,
      code: 'bad-device-signature',
    });
    expect(validateDeviceChain(s.ef2f02, [productionAnchor()], NOW)).toMatchObject({
      genuine: false,
      code: 'unknown-root',
    });
    expect(validateDeviceChain(s.ef2f02, [], NOW)).toMatchObject({
      genuine: false,
      code: 'unknown-root',
    });
    expect(validateDeviceChain(concatBytes(s.dica, s.device), anchors, NOW)).toMatchObject({
      genuine: false,
      code: 'issuer-mismatch',
    });
    expect(validateDeviceChain(s.ef2f02.subarray(3), anchors, NOW)).toMatchObject({
      genuine: false,
      code: 'malformed',
    });
  });

  it('a DICA from another root with the same CHR is a bad DICA signature, naming both CHRs', () => {
    const other = buildSyntheticChain(); // same CHRs, different keys
    const v = validateDeviceChain(other.ef2f02, anchors, NOW);
    expect(v).toMatchObject({ genuine: false, code: 'bad-dica-signature' });
    if (!v.genuine) {
      expect(v.message).toContain(s.chrs.dica);
      expect(v.message).toContain(s.chrs.root);
    }
  });

  it('a device cert signed by a different DICA key is a bad device signature', () => {
    const other = buildSyntheticChain();
    const mixed = concatBytes(other.device, s.dica);
    expect(validateDeviceChain(mixed, anchors, NOW)).toMatchObject({
      genuine: false,
      code: 'bad-device-signature',
    });
  });

  it('every flipped byte of EF 2F02 is rejected', () => {
    for (let i = 0; i < s.ef2f02.length; i += 3) {
      const t = s.ef2f02.slice();
      t[i]! ^= 0x04;
      expect(validateDeviceChain(t, anchors, NOW).genuine).toBe(false);
    }
  });

  it('checks validity dates of root, DICA and device', () => {
    const d = (y: number, m = 1, day = 1) => ({ year: y, month: m, day });
    const cases = [
      [
        { deviceDates: { effective: d(2020), expiration: d(2026, 5, 31) } },
        'expired',
        'device certificate',
      ],
      [{ dicaDates: { effective: d(2020), expiration: d(2025) } }, 'expired', 'DICA'],
      [{ rootDates: { effective: d(2020), expiration: d(2024) } }, 'expired', 'root'],
      [
        { deviceDates: { effective: d(2026, 6, 2), expiration: d(2030) } },
        'not-yet-valid',
        'device certificate',
      ],
    ] as const;
    for (const [opts, code, who] of cases) {
      const c = buildSyntheticChain(opts);
      const v = validateDeviceChain(c.ef2f02, [anchorOf(c)], NOW);
      expect(v).toMatchObject({ genuine: false, code });
      if (!v.genuine) expect(v.message).toContain(who);
    }
    // Boundary: valid on its expiration day and on its effective day.
    const edge = buildSyntheticChain({
      deviceDates: { effective: d(2026, 6, 1), expiration: d(2026, 6, 1) },
    });
    expect(validateDeviceChain(edge.ef2f02, [anchorOf(edge)], NOW).genuine).toBe(true);
  });

  it('refuses to validate against an invalid clock', () => {
    expect(() => validateDeviceChain(s.ef2f02, anchors, new Date(NaN))).toThrow(
      'invalid current time',
    );
  });

  it('the production root expires after 2032-11-08', () => {
    const p = productionAnchor();
    expect(p.cvc.body.expiration).toEqual({ year: 2032, month: 11, day: 8 });
  });

  it('warns about short CHRs', () => {
    const c = buildSyntheticChain({ deviceChr: 'UTDEV1' });
    const v = genuine(validateDeviceChain(c.ef2f02, [anchorOf(c)], NOW));
    expect(v.warnings.join()).toContain('UTDEV1');
  });

  it('fuzz: never throws on random or mutated EF 2F02', () => {
    const mutated = fc
      .tuple(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.nat(),
      )
      .map(([edits, cut]) => {
        const b = s.ef2f02.slice();
        for (const [i, v] of edits) b[i % b.length] = v;
        return cut % 4 === 0 ? b.subarray(0, cut % b.length) : b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 900 }), mutated), (b) => {
        splitDeviceCertificates(b);
        // Only the unmodified EF (an edit may write the same byte back) may be genuine.
        const same = toHex(b) === toHex(s.ef2f02);
        return validateDeviceChain(b, anchors, NOW).genuine === same;
      }),
      { numRuns: 1500 },
    );
  });
});

describe('verifyKeyAttestation (docs/card-reference.md §6.5, §7.2)', () => {
  const s = buildSyntheticChain();
  const anchors = [anchorOf(s)];
  const verdict = genuine(validateDeviceChain(s.ef2f02, anchors, NOW));
  const parse = (b: Uint8Array) => {
    const r = parseAuthenticatedRequest(b);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };

  it('accepts the request of a key generated on the validated device', () => {
    const r = verifyKeyAttestation(parse(s.request), verdict);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.chr).toBe(s.chrs.custodian);
    expect(toHex(r.value.publicKey.point)).toBe(toHex(s.keys.custodian.publicKey));
    expect(r.value.publicKey.hash).toBe('sha256');
  });

  it('accepts a secp256r1 custodian key', () => {
    const p = buildSyntheticChain({ custodianCurve: 'secp256r1' });
    const v = genuine(validateDeviceChain(p.ef2f02, [anchorOf(p)], NOW));
    expect(verifyKeyAttestation(parse(p.request), v).ok).toBe(true);
  });

  it('rejects a request attested by another device', () => {
    const other = buildSyntheticChain();
    expect(verifyKeyAttestation(parse(other.request), verdict)).toMatchObject({
      ok: false,
      error: { code: 'bad-outer-signature' },
    });
    const renamed = buildSyntheticChain({ deviceChr: 'UTCC999999900000' });
    expect(verifyKeyAttestation(parse(renamed.request), verdict)).toMatchObject({
      ok: false,
      error: { code: 'outer-car-mismatch' },
    });
  });

  it('rejects a changed outer CAR and a broken outer signature', () => {
    const req = parse(s.request);
    const resigned = buildAuthenticatedRequest(
      s.inner,
      'UTCC120935500009',
      s.keys.device.curve,
      s.keys.device.privateKey,
    );
    expect(verifyKeyAttestation(parse(resigned), verdict)).toMatchObject({
      ok: false,
      error: { code: 'outer-car-mismatch' },
    });
    const sig = req.outerSignature.slice();
    sig[5]! ^= 1;
    const tampered = encodeTlv(0x67, req.inner.encoded, req.outerCarTlv, encodeTlv(0x5f37, sig));
    expect(verifyKeyAttestation(parse(tampered), verdict)).toMatchObject({
      ok: false,
      error: { code: 'bad-outer-signature' },
    });
  });

  it('rejects a broken inner self-signature even when the device signed it', () => {
    const inner = breakSignature(s.inner);
    const req = buildAuthenticatedRequest(
      inner,
      s.chrs.device,
      s.keys.device.curve,
      s.keys.device.privateKey,
    );
    expect(verifyKeyAttestation(parse(req), verdict)).toMatchObject({
      ok: false,
      error: { code: 'bad-inner-signature' },
    });
  });

  it('rejects a request whose public key lacks domain parameters', () => {
    const body = encodeCvcBody({
      publicKey: { oid: ID_TA_ECDSA_SHA_256, point: s.keys.custodian.publicKey },
      chr: 'UTNODOMAIN00001',
    });
    const inner = signCertificate(body, s.keys.custodian.curve, s.keys.custodian.privateKey);
    const req = buildAuthenticatedRequest(
      inner,
      s.chrs.device,
      s.keys.device.curve,
      s.keys.device.privateKey,
    );
    expect(verifyKeyAttestation(parse(req), verdict)).toMatchObject({
      ok: false,
      error: { code: 'malformed' },
    });
  });

  it('rejects a key on a curve larger than 256 bits', () => {
    const big = buildSyntheticChain({ custodianCurve: 'brainpoolP384r1' });
    const v = genuine(validateDeviceChain(big.ef2f02, [anchorOf(big)], NOW));
    expect(verifyKeyAttestation(parse(big.request), v)).toMatchObject({
      ok: false,
      error: { code: 'key-size' },
    });
  });

  it('the request is bound to the inner bytes: a swapped inner request fails', () => {
    const other = buildSyntheticChain();
    const req = parse(s.request);
    const swapped = encodeTlv(
      0x67,
      other.inner,
      req.outerCarTlv,
      encodeTlv(0x5f37, req.outerSignature),
    );
    expect(verifyKeyAttestation(parse(swapped), verdict)).toMatchObject({
      ok: false,
      error: { code: 'bad-outer-signature' },
    });
    expect(parseCvc(other.inner).ok).toBe(true);
  });
});
