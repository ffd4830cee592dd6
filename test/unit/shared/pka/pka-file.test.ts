import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../../../shared/codec/bytes';
import { encodeTlv } from '../../../../shared/codec/tlv';
import { parseAuthenticatedRequest, parseCvc } from '../../../../shared/cvc/cvc';
import {
  anchorFromCvc,
  validateDeviceChain,
  verifyKeyAttestation,
} from '../../../../shared/cvc/chain';
import { OID_CC_PKA_FILE_FORMAT, oidFromString } from '../../../../shared/cvc/oids';
import {
  deviceCertificatesOf,
  encodeOldPkaFile,
  encodePkaFile,
  parsePkaFile,
} from '../../../../shared/pka/pka-file';
import { buildSyntheticChain } from '../../../fixtures/cvc/synthetic';

const s = buildSyntheticChain();
const request = parseAuthenticatedRequest(s.request);
const device = parseCvc(s.device);
const dica = parseCvc(s.dica);
if (!request.ok || !device.ok || !dica.ok) throw new Error('fixture');
const parts = { request: request.value, device: device.value, dica: dica.value };

describe('PKA file (docs/card-reference.md §6.2)', () => {
  it('new format: encodes with the documented layout and round-trips', () => {
    const bytes = encodePkaFile(parts);
    const expected = encodeTlv(
      0x30,
      encodeTlv(0x06, OID_CC_PKA_FILE_FORMAT),
      encodeTlv(0x61, s.dica),
      encodeTlv(0x62, s.device),
      encodeTlv(0x63, s.request),
    );
    expect(toHex(bytes)).toBe(toHex(expected));
    const r = parsePkaFile(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.format).toBe('new');
    expect(r.value.warnings).toBeUndefined();
    expect(r.value.device.body.chr).toBe(s.chrs.device);
    expect(r.value.dica.body.chr).toBe(s.chrs.dica);
    expect(toHex(r.value.request.encoded)).toBe(toHex(s.request));
    expect(toHex(encodePkaFile(r.value))).toBe(toHex(bytes));
  });

  it('old format: 30 { 67, device, DICA } parses and converts to the new format', () => {
    const old = encodeOldPkaFile(parts);
    expect(toHex(old)).toBe(toHex(encodeTlv(0x30, s.request, s.device, s.dica)));
    const r = parsePkaFile(old);
    expect(r.ok && r.value.format).toBe('old');
    if (!r.ok) return;
    expect(toHex(encodePkaFile(r.value))).toBe(toHex(encodePkaFile(parts)));
  });

  it('a parsed file validates end to end: chain, then attestation', () => {
    const r = parsePkaFile(encodePkaFile(parts));
    if (!r.ok) throw new Error(r.error.message);
    const anchor = anchorFromCvc(s.root, 'test');
    if (!anchor.ok) throw new Error(anchor.error.message);
    const v = validateDeviceChain(
      deviceCertificatesOf(r.value),
      [anchor.value],
      new Date('2026-01-01'),
    );
    if (!v.genuine) throw new Error(v.message);
    const a = verifyKeyAttestation(r.value.request, v);
    expect(a.ok && a.value.chr).toBe(s.chrs.custodian);
  });

  it('accepts 61/62 swapped (docs/card-reference.md §13.14) with a warning', () => {
    const swapped = encodeTlv(
      0x30,
      encodeTlv(0x06, OID_CC_PKA_FILE_FORMAT),
      encodeTlv(0x61, s.device),
      encodeTlv(0x62, s.dica),
      encodeTlv(0x63, s.request),
    );
    const r = parsePkaFile(swapped);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.device.body.chr).toBe(s.chrs.device);
    expect(r.value.dica.body.chr).toBe(s.chrs.dica);
    expect(r.value.warnings?.length).toBe(1);
  });

  it.each([
    [
      'wrong OID',
      () =>
        encodeTlv(
          0x30,
          encodeTlv(0x06, oidFromString('1.3.6.1.4.1.24991.4.3')),
          encodeTlv(0x61, s.dica),
          encodeTlv(0x62, s.device),
          encodeTlv(0x63, s.request),
        ),
      'unsupported',
    ],
    [
      'missing request',
      () =>
        encodeTlv(
          0x30,
          encodeTlv(0x06, OID_CC_PKA_FILE_FORMAT),
          encodeTlv(0x61, s.dica),
          encodeTlv(0x62, s.device),
        ),
      'malformed',
    ],
    [
      'wrapper holding two TLVs',
      () =>
        encodeTlv(
          0x30,
          encodeTlv(0x06, OID_CC_PKA_FILE_FORMAT),
          encodeTlv(0x61, s.dica, s.dica),
          encodeTlv(0x62, s.device),
          encodeTlv(0x63, s.request),
        ),
      'malformed',
    ],
    [
      'request where a certificate belongs',
      () =>
        encodeTlv(
          0x30,
          encodeTlv(0x06, OID_CC_PKA_FILE_FORMAT),
          encodeTlv(0x61, s.request),
          encodeTlv(0x62, s.device),
          encodeTlv(0x63, s.request),
        ),
      'malformed',
    ],
    ['old with DICA missing', () => encodeTlv(0x30, s.request, s.device), 'malformed'],
    [
      'old with an extra element',
      () => encodeTlv(0x30, s.request, s.device, s.dica, s.dica),
      'malformed',
    ],
    ['not a SEQUENCE', () => encodeTlv(0x31, s.request, s.device, s.dica), 'malformed'],
    ['trailing byte', () => concatBytes(encodeOldPkaFile(parts), Uint8Array.of(0)), 'malformed'],
    ['empty', () => new Uint8Array(0), 'malformed'],
    ['huge', () => new Uint8Array(20000), 'malformed'],
  ] as const)('rejects %s', (_n, make, code) => {
    const r = parsePkaFile(make());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it('fuzz: parsePkaFile never throws on random and mutated files', () => {
    const seeds = [encodePkaFile(parts), encodeOldPkaFile(parts)];
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
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1200 }), mutated), (b) => {
        const r = parsePkaFile(b);
        return r.ok || r.error.code === 'malformed' || r.error.code === 'unsupported';
      }),
      { numRuns: 3000 },
    );
  });
});
