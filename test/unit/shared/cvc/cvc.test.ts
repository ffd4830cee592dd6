import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { decodeTlv, encodeTlv } from '../../../../shared/codec/tlv';
import { curveByName } from '../../../../shared/crypto/curves';
import {
  parseAuthenticatedRequest,
  parseAuthenticatedRequestContent,
  parseCvc,
  parseCvcAt,
  parsePublicKey,
} from '../../../../shared/cvc/cvc';
import { formatCvcDate } from '../../../../shared/cvc/date';
import { encodeCvcBody, encodePublicKey } from '../../../../shared/cvc/encode';
import {
  ID_TA_ECDSA_SHA_256,
  ID_TA_RSA_V1_5_SHA_256,
  OID_CC_ROLE_SC_HSM,
  oidToString,
} from '../../../../shared/cvc/oids';
import {
  keyOf,
  verifyCvc,
  verifyOuterSignature,
  verifySelfSigned,
} from '../../../../shared/cvc/verify';
import {
  DESRCACC100001_HEX,
  DESRCA_POINT_HEX,
  UTSRCACC100001_HEX,
  UTSRCA_POINT_HEX,
} from '../../../fixtures/cvc/roots';
import { buildSyntheticChain } from '../../../fixtures/cvc/synthetic';

const roots = [
  ['DESRCACC100001', DESRCACC100001_HEX, DESRCA_POINT_HEX],
  ['UTSRCACC100001', UTSRCACC100001_HEX, UTSRCA_POINT_HEX],
] as const;

describe('published roots (reference appendix A, §5.3)', () => {
  it.each(roots)(
    '%s parses with the documented fields and verifies self-signed',
    (chr, hex, point) => {
      const bytes = fromHex(hex);
      expect(bytes.length).toBe(441);
      const r = parseCvc(bytes);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const { body } = r.value;
      expect(body.chr).toBe(chr);
      expect(body.car).toBe(chr);
      expect(body.cpi).toBe(0);
      expect(formatCvcDate(body.effective!)).toBe('2012-11-09');
      expect(formatCvcDate(body.expiration!)).toBe('2032-11-08');
      expect(oidToString(body.chat!.oid)).toBe('1.3.6.1.4.1.24991.3.1.1');
      expect(toHex(body.chat!.rights)).toBe('c0');
      expect(toHex(body.publicKey.oid)).toBe(toHex(ID_TA_ECDSA_SHA_256));
      expect(toHex(body.publicKey.point!)).toBe(point.toLowerCase());
      expect(r.value.signature.length).toBe(64);
      const key = keyOf(r.value);
      expect(key.ok && key.value.curve.name).toBe('brainpoolP256r1');
      expect(key.ok && key.value.hash).toBe('sha256');
      expect(verifySelfSigned(r.value)).toBe(true);
      // Re-encoding the parsed body reproduces the signed bytes exactly.
      expect(toHex(encodeCvcBody(body))).toBe(toHex(r.value.bodyTlv));
      expect(toHex(r.value.encoded)).toBe(toHex(bytes));
    },
  );

  it('a flipped bit anywhere in the signed body breaks the self-signature', () => {
    const bytes = fromHex(DESRCACC100001_HEX);
    const p = parseCvc(bytes);
    if (!p.ok) throw new Error('parse');
    const bodyStart = 4; // 7F21 82 01B4
    const bodyEnd = bodyStart + p.value.bodyTlv.length;
    let checked = 0;
    for (let i = bodyStart; i < bodyEnd; i += 7) {
      const t = bytes.slice();
      t[i]! ^= 0x01;
      const r = parseCvc(t);
      if (r.ok) {
        expect(verifySelfSigned(r.value)).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('the two roots do not verify each other', () => {
    const de = parseCvc(fromHex(DESRCACC100001_HEX));
    const ut = parseCvc(fromHex(UTSRCACC100001_HEX));
    if (!de.ok || !ut.ok) throw new Error('parse');
    const utKey = keyOf(ut.value);
    expect(utKey.ok && verifyCvc(de.value, utKey.value)).toBe(false);
  });

  it('parsed CVCs do not alias the caller buffer', () => {
    const bytes = fromHex(DESRCACC100001_HEX);
    const r = parseCvc(bytes);
    bytes.fill(0);
    expect(r.ok && verifySelfSigned(r.value)).toBe(true);
  });
});

describe('parseCvc structure checks', () => {
  const root = fromHex(UTSRCACC100001_HEX);
  const p = parseCvc(root);
  if (!p.ok) throw new Error('parse');
  const body = p.value.body;
  const wrap = (bodyTlv: Uint8Array): Uint8Array =>
    encodeTlv(0x7f21, bodyTlv, encodeTlv(0x5f37, p.value.signature));
  const bodyWith = (...children: Uint8Array[]): Uint8Array => wrap(encodeTlv(0x7f4e, ...children));
  const cpi = encodeTlv(0x5f29, Uint8Array.of(0));
  const car = encodeTlv(0x42, fromHex('5554'));
  const pk = encodePublicKey(body.publicKey);
  const chr = encodeTlv(0x5f20, body.chrBytes);

  it.each([
    ['trailing byte', concatBytes(root, Uint8Array.of(0)), 'structure'],
    ['wrong outer tag', encodeTlv(0x7f4e, root.subarray(4)), 'structure'],
    ['truncated', root.subarray(0, 300), 'tlv'],
    ['empty', new Uint8Array(0), 'tlv'],
    ['missing CHR', bodyWith(cpi, car, pk), 'structure'],
    ['missing public key', bodyWith(cpi, car, chr), 'structure'],
    ['missing CPI', bodyWith(car, pk, chr), 'structure'],
    ['CPI 1', bodyWith(encodeTlv(0x5f29, Uint8Array.of(1)), car, pk, chr), 'unsupported'],
    ['tags out of order', bodyWith(cpi, pk, car, chr), 'structure'],
    ['duplicate CHR', bodyWith(cpi, car, pk, chr, chr), 'structure'],
    ['unknown tag', bodyWith(cpi, car, pk, chr, encodeTlv(0x5f30, Uint8Array.of(1))), 'structure'],
    ['empty CHR', bodyWith(cpi, car, pk, encodeTlv(0x5f20, new Uint8Array(0))), 'structure'],
    [
      '17-char CHR',
      bodyWith(cpi, car, pk, encodeTlv(0x5f20, new Uint8Array(17).fill(0x41))),
      'structure',
    ],
    ['control char in CAR', bodyWith(cpi, encodeTlv(0x42, fromHex('4100')), pk, chr), 'structure'],
    [
      'bad date',
      bodyWith(cpi, car, pk, chr, encodeTlv(0x5f25, fromHex('010201030009'))),
      'structure',
    ],
    ['missing signature', encodeTlv(0x7f21, p.value.bodyTlv), 'structure'],
    [
      'empty signature',
      encodeTlv(0x7f21, p.value.bodyTlv, encodeTlv(0x5f37, new Uint8Array(0))),
      'structure',
    ],
  ] as const)('rejects %s (%s)', (_n, bytes, code) => {
    const r = parseCvc(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(5);
    }
  });

  it('accepts short CHRs (tolerated, bytes kept) and a body without optional fields', () => {
    const r = parseCvc(bodyWith(cpi, pk, encodeTlv(0x5f20, fromHex('41'))));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.body.chr).toBe('A');
      expect(r.value.body.car).toBeUndefined();
      expect(r.value.body.effective).toBeUndefined();
    }
  });

  it('parseCvcAt parses consecutive certificates', () => {
    const two = concatBytes(root, fromHex(DESRCACC100001_HEX));
    const a = parseCvcAt(two, 0);
    expect(a.ok && a.value.end).toBe(441);
    const b = a.ok ? parseCvcAt(two, a.value.end) : a;
    expect(b.ok && b.value.cvc.body.chr).toBe('DESRCACC100001');
    expect(parseCvcAt(two, 882).ok).toBe(false);
    expect(parseCvcAt(two, -1).ok).toBe(false);
  });
});

describe('parsePublicKey', () => {
  const d = curveByName('secp256r1').domain;

  it('parses a key-generation template key (domain, no point; docs/card-reference.md §7.1)', () => {
    const tlv = encodePublicKey({ oid: ID_TA_ECDSA_SHA_256, domain: d });
    const outer = decodeTlv(tlv);
    if (!outer.ok) throw new Error('tlv');
    const r = parsePublicKey(outer.value.value);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.point).toBeUndefined();
      expect(r.value.domain?.n).toBe(d.n);
      expect(toHex(r.value.domain!.g)).toBe(toHex(d.g));
    }
  });

  it('parses RSA templates and keys', () => {
    const tmpl = concatBytes(
      encodeTlv(0x06, ID_TA_RSA_V1_5_SHA_256),
      encodeTlv(0x82, fromHex('010001')),
      encodeTlv(0x02, fromHex('0800')),
    );
    expect(parsePublicKey(tmpl)).toMatchObject({ ok: true, value: { keySize: 2048 } });
    const key = concatBytes(
      encodeTlv(0x06, ID_TA_RSA_V1_5_SHA_256),
      encodeTlv(0x81, new Uint8Array(256).fill(0xc1)),
      encodeTlv(0x82, fromHex('010001')),
    );
    const r = parsePublicKey(key);
    expect(r.ok && r.value.modulus?.length).toBe(256);
  });

  it.each([
    [
      'no OID first',
      concatBytes(encodeTlv(0x86, d.g), encodeTlv(0x06, ID_TA_ECDSA_SHA_256)),
      'structure',
    ],
    ['unknown algorithm', encodeTlv(0x06, OID_CC_ROLE_SC_HSM), 'unsupported'],
    [
      'partial domain',
      concatBytes(encodeTlv(0x06, ID_TA_ECDSA_SHA_256), encodeTlv(0x81, fromHex('ff'))),
      'structure',
    ],
    [
      'compressed point',
      concatBytes(encodeTlv(0x06, ID_TA_ECDSA_SHA_256), encodeTlv(0x86, fromHex('02aa'))),
      'unsupported',
    ],
    ['empty', new Uint8Array(0), 'structure'],
  ] as const)('rejects %s', (_n, bytes, code) => {
    const r = parsePublicKey(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });
});

describe('authenticated requests (docs/card-reference.md §4.2, §7.2)', () => {
  const s = buildSyntheticChain();

  it('parses a request built by our encoders; inner and outer signatures verify', () => {
    const r = parseAuthenticatedRequest(s.request);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.outerCar).toBe(s.chrs.device);
    expect(toHex(r.value.outerCarTlv)).toBe(toHex(encodeTlv(0x42, asciiBytes(s.chrs.device))));
    expect(r.value.inner.body.chr).toBe(s.chrs.custodian);
    expect(toHex(r.value.encoded)).toBe(toHex(s.request));
    expect(toHex(encodeTlv(0x67, r.value.content))).toBe(toHex(s.request));
    expect(verifySelfSigned(r.value.inner)).toBe(true);
    const device = parseCvc(s.device);
    const dica = parseCvc(s.dica);
    if (!device.ok || !dica.ok) throw new Error('parse');
    const rootDomain = curveByName('brainpoolP256r1').domain;
    const dk = keyOf(device.value, rootDomain);
    expect(dk.ok && verifyOuterSignature(r.value, dk.value)).toBe(true);
    const wrong = keyOf(dica.value, rootDomain);
    expect(wrong.ok && verifyOuterSignature(r.value, wrong.value)).toBe(false);
  });

  it('parseAuthenticatedRequestContent takes the value of 67 (the 80 54 data)', () => {
    const full = parseAuthenticatedRequest(s.request);
    if (!full.ok) throw new Error('parse');
    const c = parseAuthenticatedRequestContent(full.value.content);
    expect(c.ok && toHex(c.value.encoded)).toBe(toHex(s.request));
  });

  it('rejects wrong tags, missing parts, trailing bytes and extra children', () => {
    const full = parseAuthenticatedRequest(s.request);
    if (!full.ok) throw new Error('parse');
    const { inner, outerCarTlv, outerSignature } = full.value;
    const sig = encodeTlv(0x5f37, outerSignature);
    const cases: Uint8Array[] = [
      s.inner, // a 7F21, not a 67
      concatBytes(s.request, Uint8Array.of(0)),
      encodeTlv(0x67, inner.encoded, outerCarTlv),
      encodeTlv(0x67, outerCarTlv, inner.encoded, sig),
      encodeTlv(0x67, inner.encoded, outerCarTlv, sig, sig),
      encodeTlv(0x67, inner.encoded, encodeTlv(0x42, new Uint8Array(0)), sig),
      encodeTlv(0x67, inner.encoded, outerCarTlv, encodeTlv(0x5f37, new Uint8Array(0))),
    ];
    for (const c of cases) expect(parseAuthenticatedRequest(c).ok).toBe(false);
  });
});

describe('fuzz: parsers never throw', () => {
  const seeds = [fromHex(DESRCACC100001_HEX), buildSyntheticChain().request];
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(),
    )
    .map(([seed, edits, cut]) => {
      const b = seed.slice();
      for (const [i, v] of edits) b[i % b.length] = v;
      return cut % 5 === 0 ? b.subarray(0, cut % b.length) : b;
    });
  const inputs = fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated);

  it('parseCvc / parseAuthenticatedRequest / parsePublicKey / parseAuthenticatedRequestContent', () => {
    fc.assert(
      fc.property(inputs, (b) => {
        for (const r of [
          parseCvc(b),
          parseAuthenticatedRequest(b),
          parsePublicKey(b),
          parseAuthenticatedRequestContent(b),
        ]) {
          if (!r.ok && !['tlv', 'structure', 'unsupported'].includes(r.error.code)) return false;
        }
        const c = parseCvc(b);
        if (c.ok) verifySelfSigned(c.value);
        return true;
      }),
      { numRuns: 4000 },
    );
  });
});
