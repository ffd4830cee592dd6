import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  asciiBytes,
  bytesEqual,
  concatBytes,
  fromHex,
  toHex,
} from '../../../../shared/codec/bytes';
import { command, decodeCommandApdu, encodeCommandApdu } from '../../../../shared/codec/apdu';
import {
  createApduFirewall,
  isPublicFileId,
  type FirewallApproval,
} from '../../../../shared/policy/firewall';
import {
  FIREWALL_DENY_SW,
  FIREWALL_RULES,
  type FirewallRuleId,
} from '../../../../shared/policy/firewall-rules';

const CHR = asciiBytes('DENK0200001T0042');
const CHALLENGE = fromHex('0102030405060708');
const KEY_ID = 3;
const INPUT = concatBytes(CHR, CHALLENGE);
const DIGEST = sha256(INPUT);

const approval = (over: Partial<FirewallApproval> = {}): FirewallApproval => ({
  ceremonyId: 'cer-1',
  targetDeviceChr: CHR,
  challenge: CHALLENGE,
  keyId: KEY_ID,
  ...over,
});

const enc = (
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data?: Uint8Array,
  ne?: number,
  forceExtended = false,
): Uint8Array => {
  const r = encodeCommandApdu(command(cla, ins, p1, p2, data, ne), { forceExtended });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

const signShort = (data: Uint8Array = INPUT, p2 = 0x73, kid = KEY_ID) =>
  enc(0x80, 0x68, kid, p2, data, 256);

describe('firewall allow rows (docs/card-reference.md §12.1)', () => {
  const allowed: [string, Uint8Array, FirewallRuleId][] = [
    ['PIN status query', fromHex('00200081'), 'verify-status'],
    ['read 2F02 short', fromHex('00b12f02' + '0454020000' + '00'), 'read-public-object'],
    ['read 2F02 extended', fromHex('00b12f02' + '00000454020000' + '0000'), 'read-public-object'],
    ['read CE03 at offset', fromHex('00b1ce03' + '0454020100' + '00'), 'read-public-object'],
    ['read C403', enc(0x00, 0xb1, 0xc4, 0x03, fromHex('54020000'), 65536), 'read-public-object'],
    ['read C8 07', enc(0x00, 0xb1, 0xc8, 0x07, fromHex('54020000'), 256), 'read-public-object'],
    ['read CA00', enc(0x00, 0xb1, 0xca, 0x00, fromHex('54020000'), 256), 'read-public-object'],
    ['enumerate', fromHex('80580000'), 'enumerate-objects'],
    ['enumerate ext Le', fromHex('80580000000000'), 'enumerate-objects'],
    ['get challenge', fromHex('0084000008'), 'get-challenge'],
    ['sign 73', signShort(), 'sign-pka-input'],
    ['sign 73 no Le', enc(0x80, 0x68, KEY_ID, 0x73, INPUT), 'sign-pka-input'],
    ['sign 73 extended', enc(0x80, 0x68, KEY_ID, 0x73, INPUT, 256, true), 'sign-pka-input'],
    ['sign 70', signShort(DIGEST, 0x70), 'sign-pka-hash'],
  ];
  it.each(allowed)('%s', (_name, apdu, rule) => {
    const fw = createApduFirewall(approval());
    const d = fw.inspect(apdu);
    expect(d).toEqual({
      allow: true,
      rule,
      header: toHex(apdu.subarray(0, 4))
        .toUpperCase()
        .replace(/(..)(?!$)/g, '$1 '),
    });
  });

  it('counts an allowed signature and allows only one per approval', () => {
    const fw = createApduFirewall(approval());
    expect(fw.signaturesUsed).toBe(0);
    expect(fw.inspect(signShort()).allow).toBe(true);
    expect(fw.signaturesUsed).toBe(1);
    const second = fw.inspect(signShort());
    expect(second).toMatchObject({ allow: false, rule: 'sign-budget-spent', sw: 0x6986 });
    // The hashed form and the extended encoding are the same signature: also refused.
    expect(fw.inspect(signShort(DIGEST, 0x70))).toMatchObject({ rule: 'sign-budget-spent' });
    expect(fw.inspect(enc(0x80, 0x68, KEY_ID, 0x73, INPUT, 256, true))).toMatchObject({
      rule: 'sign-budget-spent',
    });
    expect(fw.signaturesUsed).toBe(1);
    expect(fw.ceremonyId).toBe('cer-1');
  });

  it('an extended-length SIGN spends the same budget as the short one', () => {
    const fw = createApduFirewall(approval());
    expect(fw.inspect(enc(0x80, 0x68, KEY_ID, 0x73, INPUT, 256, true)).allow).toBe(true);
    expect(fw.inspect(signShort())).toMatchObject({ allow: false, rule: 'sign-budget-spent' });
  });

  it('denied signatures do not spend the budget', () => {
    const fw = createApduFirewall(approval());
    expect(fw.inspect(signShort(INPUT, 0x73, KEY_ID + 1)).allow).toBe(false);
    expect(fw.inspect(signShort(DIGEST, 0x73)).allow).toBe(false);
    expect(fw.signaturesUsed).toBe(0);
    expect(fw.inspect(signShort()).allow).toBe(true);
  });
});

describe('firewall SIGN data checks (docs/card-reference.md §12.3)', () => {
  const otherChr = asciiBytes('DENK0200001T0043');
  const cases: [string, Uint8Array, FirewallRuleId][] = [
    ['other key id', signShort(INPUT, 0x73, KEY_ID + 1), 'sign-other-key'],
    ['device key 0', signShort(INPUT, 0x73, 0), 'sign-other-key'],
    ['other algorithm 75', signShort(INPUT, 0x75), 'sign-other-algorithm'],
    ['ECDH 80', signShort(INPUT, 0x80), 'sign-other-algorithm'],
    ['RSA 33', signShort(INPUT, 0x33), 'sign-other-algorithm'],
    ['other target CHR', signShort(concatBytes(otherChr, CHALLENGE)), 'sign-other-data'],
    [
      'other challenge',
      signShort(concatBytes(CHR, fromHex('0102030405060709'))),
      'sign-other-data',
    ],
    ['challenge only', signShort(CHALLENGE), 'sign-other-data'],
    [
      'input with trailing byte',
      signShort(concatBytes(INPUT, Uint8Array.of(0))),
      'sign-other-data',
    ],
    ['input truncated', signShort(INPUT.subarray(0, INPUT.length - 1)), 'sign-other-data'],
    ['no data', enc(0x80, 0x68, KEY_ID, 0x73, undefined, 256), 'sign-other-data'],
    ['70 with raw input', signShort(INPUT, 0x70), 'sign-other-data'],
    [
      '70 with wrong hash',
      signShort(sha256(concatBytes(otherChr, CHALLENGE)), 0x70),
      'sign-other-data',
    ],
    ['73 with the hash', signShort(DIGEST, 0x73), 'sign-other-data'],
    ['CLA 00', enc(0x00, 0x68, KEY_ID, 0x73, INPUT, 256), 'class-not-allowed'],
    ['CLA 84 (SM)', enc(0x84, 0x68, KEY_ID, 0x73, INPUT, 256), 'class-not-allowed'],
    ['CLA 90 (chaining)', enc(0x90, 0x68, KEY_ID, 0x73, INPUT, 256), 'class-not-allowed'],
    ['CLA 81 (channel 1)', enc(0x81, 0x68, KEY_ID, 0x73, INPUT, 256), 'class-not-allowed'],
  ];
  it.each(cases)('%s is denied', (_name, apdu, rule) => {
    const fw = createApduFirewall(approval());
    const d = fw.inspect(apdu);
    expect(d.allow).toBe(false);
    if (d.allow) return;
    expect(d.rule).toBe(rule);
    expect(d.sw).toBe(FIREWALL_DENY_SW);
    expect(d.reason.length).toBeGreaterThan(0);
    expect(fw.signaturesUsed).toBe(0);
  });

  it('says which part of the input is wrong', () => {
    const fw = createApduFirewall(approval());
    const d1 = fw.inspect(signShort(concatBytes(otherChr, CHALLENGE)));
    const d2 = fw.inspect(signShort(concatBytes(CHR, fromHex('ffffffffffffffff'))));
    expect(!d1.allow && d1.reason).toMatch(/does not name the approved target/);
    expect(!d2.allow && d2.reason).toMatch(/not the approved challenge/);
  });

  it('the same APDU is denied under an approval for another target or challenge', () => {
    expect(
      createApduFirewall(approval({ targetDeviceChr: asciiBytes('OTHERTARGET00001') })).inspect(
        signShort(),
      ).allow,
    ).toBe(false);
    expect(
      createApduFirewall(approval({ challenge: fromHex('0807060504030201') })).inspect(signShort())
        .allow,
    ).toBe(false);
    expect(createApduFirewall(approval({ keyId: 4 })).inspect(signShort()).allow).toBe(false);
  });

  it('copies the approval so later mutation cannot widen it', () => {
    const chr = Uint8Array.from(CHR);
    const ch = Uint8Array.from(CHALLENGE);
    const fw = createApduFirewall(approval({ targetDeviceChr: chr, challenge: ch }));
    chr[0] = 0x58;
    ch[0] = 0xff;
    expect(fw.inspect(signShort(concatBytes(chr, ch))).allow).toBe(false);
    expect(fw.inspect(signShort()).allow).toBe(true);
  });

  it('rejects an invalid approval at construction', () => {
    expect(() => createApduFirewall(approval({ keyId: 0 }))).toThrow(/key id/);
    expect(() => createApduFirewall(approval({ keyId: 256 }))).toThrow(/key id/);
    expect(() => createApduFirewall(approval({ keyId: 1.5 }))).toThrow(/key id/);
    expect(() => createApduFirewall(approval({ ceremonyId: '' }))).toThrow(/ceremony/);
    expect(() => createApduFirewall(approval({ challenge: new Uint8Array(0) }))).toThrow();
    expect(() =>
      createApduFirewall(approval({ targetDeviceChr: new Uint8Array(17).fill(0x41) })),
    ).toThrow();
    expect(() =>
      createApduFirewall(approval({ targetDeviceChr: Uint8Array.of(0x41, 0x0a) })),
    ).toThrow();
  });
});

describe('firewall deny rows (docs/card-reference.md §12.2)', () => {
  const denied: [string, string, FirewallRuleId][] = [
    ['VERIFY user PIN with data', '0020008106313233343536', 'verify-with-data'],
    ['VERIFY SO-PIN with data', '00200088083537333537333537', 'verify-with-data'],
    ['VERIFY P1=01', '00200181', 'verify-keep-session'],
    ['VERIFY SO status', '00200088', 'verify-other'],
    ['VERIFY status with Le', '0020008100', 'bad-form'],
    ['VERIFY with CLA 80', '80200081', 'class-not-allowed'],
    ['CHANGE REFERENCE DATA', '002400810c313233343536363534333231', 'pin-management'],
    ['RESET RETRY COUNTER', '002c0081083537333537333537', 'pin-management'],
    ['SESSION PIN', '805a0181', 'pin-management'],
    ['INITIALIZE', '80500000' + '08' + '8002000181020000', 'initialize'],
    ['INITIALIZE no data', '80500000', 'initialize'],
    ['GP INITIALIZE UPDATE', '80500000080102030405060708', 'initialize'],
    ['KEY DOMAIN query', '80520000', 'key-domain'],
    ['DKEK share import', '8052000020' + '00'.repeat(32), 'key-domain'],
    ['WRAP KEY', '8072039200', 'key-export'],
    ['UNWRAP KEY', '80740393', 'key-export'],
    ['GENERATE KEY PAIR', '0046030000', 'key-store-write'],
    ['GENERATE SYMMETRIC KEY', '004803b0', 'key-store-write'],
    ['UPDATE BINARY', '00d7c403065402000053' + '00', 'key-store-write'],
    ['DELETE FILE', '00e4020002cc03', 'key-store-write'],
    ['DECIPHER', '8062038020' + 'aa'.repeat(32), 'crypto-oracle'],
    ['DERIVE EC KEY', '8076030410' + 'aa'.repeat(16), 'crypto-oracle'],
    ['CIPHER SYMMETRIC', '8078031010' + 'aa'.repeat(16), 'crypto-oracle'],
    ['MANAGE PKA status', '8054000004', 'manage-pka'],
    ['MANAGE PKA register', '8054000003010203', 'manage-pka'],
    ['PSO VERIFY CERTIFICATE', '002a00be03010203', 'trust-store'],
    ['MSE SET DST B6', '002281b6058303414243', 'trust-store'],
    ['MSE SET AT A4', '002281a4058303414243', 'trust-store'],
    ['MSE chip authentication', '002241a4028000', 'trust-store'],
    ['EXTERNAL AUTHENTICATE', '0082000040' + '11'.repeat(64), 'trust-store'],
    ['GENERAL AUTHENTICATE', '0086000004' + '7c028000', 'secure-messaging'],
    ['SELECT applet', '00a4040c0be82b0601040181c31f0201', 'select'],
    ['SELECT card manager', '00a4040008a000000151000000' + '00', 'select'],
    ['SELECT EF', '00a4000c022f02', 'select'],
    ['READ BINARY key CC03', '00b1cc030454020000' + '00', 'read-private-object'],
    ['READ BINARY device key CC00', '00b1cc000454020000' + '00', 'read-private-object'],
    ['READ BINARY protected CD01', '00b1cd010454020000' + '00', 'read-private-object'],
    ['READ BINARY data CF01', '00b1cf010454020000' + '00', 'read-private-object'],
    ['READ BINARY token info 2F03', '00b12f030454020000' + '00', 'read-private-object'],
    ['READ BINARY 2F02 without offset', '00b12f0200', 'bad-form'],
    ['READ BINARY 2F02 without Le', '00b12f020454020000', 'bad-form'],
    ['READ BINARY 2F02 other TLV', '00b12f020453020000' + '00', 'bad-form'],
    ['READ BINARY 2F02 CLA 80', '80b12f020454020000' + '00', 'class-not-allowed'],
    ['READ BINARY ISO', '00b0000000', 'read-binary-iso'],
    ['ENUMERATE with data', '805800000100', 'bad-form'],
    ['ENUMERATE P1', '80580100', 'bad-form'],
    ['ENUMERATE CLA 00', '00580000', 'class-not-allowed'],
    ['GET CHALLENGE P2', '0084000108', 'bad-form'],
    ['GET CHALLENGE with data', '008400000101', 'bad-form'],
    ['GET CHALLENGE CLA 80', '8084000008', 'class-not-allowed'],
    ['GET RESPONSE', '00c0000000', 'get-response'],
    ['Pico extra 64', '80640000', 'unknown-instruction'],
    ['Pico extra 4A', '804a0000', 'unknown-instruction'],
    ['unknown INS', '00ee0000', 'unknown-instruction'],
    ['secure messaging CLA 0C', '0c2000810a8e08' + '00'.repeat(8), 'class-not-allowed'],
    ['chained CLA 10', '10680373' + '0101', 'class-not-allowed'],
    ['logical channel CLA 01', '01200081', 'class-not-allowed'],
    ['CLA FF', 'ff200081', 'class-not-allowed'],
    ['empty', '', 'malformed'],
    ['three bytes', '002000', 'malformed'],
    ['Lc too long', '0020008106313233', 'malformed'],
    ['extended Lc zero', '002000810000000000', 'malformed'],
  ];
  it.each(denied)('%s', (_name, hex, rule) => {
    const fw = createApduFirewall(approval());
    const d = fw.inspect(fromHex(hex));
    expect(d).toMatchObject({ allow: false, rule, sw: 0x6986 });
    if (!d.allow) expect(d.reason).not.toBe('');
  });

  it('never throws on a non-byte-array', () => {
    const fw = createApduFirewall(approval());
    for (const bad of [null, undefined, 'deadbeef', [0, 0x20, 0, 0x81], {}]) {
      expect(fw.inspect(bad as unknown as Uint8Array)).toMatchObject({
        allow: false,
        rule: 'malformed',
      });
    }
  });
});

describe('rule table', () => {
  it('has one row per id, with text and reference, and every decision rule is listed', () => {
    const ids = FIREWALL_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of FIREWALL_RULES) {
      expect(r.text.length).toBeGreaterThan(0);
      expect(r.reference).toMatch(/§/);
    }
    expect(FIREWALL_RULES.filter((r) => r.verdict === 'allow').map((r) => r.id)).toEqual([
      'verify-status',
      'read-public-object',
      'enumerate-objects',
      'get-challenge',
      'sign-pka-input',
      'sign-pka-hash',
    ]);
  });

  it('isPublicFileId accepts exactly 2F02 and CE/C4/C8/CA objects', () => {
    for (let fid = 0; fid <= 0xffff; fid++) {
      const hi = fid >> 8;
      const want = fid === 0x2f02 || hi === 0xce || hi === 0xc4 || hi === 0xc8 || hi === 0xca;
      if (isPublicFileId(fid) !== want) throw new Error(`fid ${fid.toString(16)}`);
    }
  });
});

/**
 * Independent oracle for the allow rules (written from docs/card-reference.md §12.1, not from the
 * implementation): returns the rule that must allow the APDU, or undefined.
 */
function oracle(bytes: Uint8Array, used: number): FirewallRuleId | undefined {
  const r = decodeCommandApdu(bytes);
  if (!r.ok) return undefined;
  const c = r.value;
  const h = (c.cla << 24) | (c.ins << 16) | (c.p1 << 8) | c.p2;
  const noData = c.data.length === 0;
  if (h === 0x00200081 && noData && c.ne === undefined) return 'verify-status';
  if (c.cla === 0 && c.ins === 0xb1) {
    const fid = (c.p1 << 8) | c.p2;
    const pub = fid === 0x2f02 || [0xce, 0xc4, 0xc8, 0xca].includes(c.p1);
    const off = c.data.length === 4 && c.data[0] === 0x54 && c.data[1] === 2;
    return pub && off && c.ne !== undefined ? 'read-public-object' : undefined;
  }
  if (h === (0x80580000 | 0) && noData) return 'enumerate-objects';
  if (h === 0x00840000 && noData) return 'get-challenge';
  if (used === 0 && h === (0x80680373 | 0) && bytesEqual(c.data, INPUT)) return 'sign-pka-input';
  if (used === 0 && h === (0x80680370 | 0) && bytesEqual(c.data, DIGEST)) return 'sign-pka-hash';
  return undefined;
}

const byte = fc.integer({ min: 0, max: 255 });
const interestingApdu = fc
  .record({
    cla: fc.oneof(fc.constantFrom(0x00, 0x80), byte),
    ins: fc.oneof(fc.constantFrom(0x20, 0xb1, 0x58, 0x84, 0x68, 0xa4, 0x54, 0x22), byte),
    p1: fc.oneof(fc.constantFrom(0x00, 0x01, KEY_ID, 0x2f, 0xce, 0xcc, 0xc4), byte),
    p2: fc.oneof(fc.constantFrom(0x00, 0x81, 0x88, 0x02, 0x73, 0x70, KEY_ID), byte),
    data: fc.oneof(
      fc.constant(new Uint8Array(0)),
      fc.constant(INPUT),
      fc.constant(DIGEST),
      fc.constant(fromHex('54020000')),
      fc.uint8Array({ maxLength: 40 }),
      fc
        .uint8Array({ minLength: 24, maxLength: 24 })
        .map((u) => concatBytes(CHR, u.subarray(0, 8))),
    ),
    ne: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
    ext: fc.boolean(),
  })
  .map(({ cla, ins, p1, p2, data, ne, ext }) => enc(cla, ins, p1, p2, data, ne, ext));

/** APDUs that are allowed (before the signature budget is spent) and near misses of them. */
const ALLOWED_SAMPLES = [
  fromHex('00200081'),
  fromHex('00b12f02' + '0454020000' + '00'),
  fromHex('00b1ce03' + '00000454020000' + '0000'),
  fromHex('80580000'),
  fromHex('0084000008'),
  signShort(),
  signShort(DIGEST, 0x70),
];
const knownGood = fc.constantFrom(...ALLOWED_SAMPLES);
const nearMiss = fc
  .record({ base: knownGood, pos: fc.nat(), value: byte, cut: fc.boolean() })
  .map(({ base, pos, value, cut }) => {
    const copy = Uint8Array.from(base);
    const i = pos % copy.length;
    if (cut) return copy.subarray(0, i);
    copy[i] = value;
    return copy;
  });

describe('firewall property: nothing is allowed unless an allow rule matches', () => {
  it('holds for sequences of structured and random APDUs', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(interestingApdu, knownGood, nearMiss, fc.uint8Array({ maxLength: 300 })),
          {
            maxLength: 12,
          },
        ),
        (apdus) => {
          const fw = createApduFirewall(approval());
          let used = 0;
          for (const a of apdus) {
            const want = oracle(a, used);
            const d = fw.inspect(a);
            expect(d.allow ? d.rule : undefined).toBe(want);
            seen.set(d.rule, (seen.get(d.rule) ?? 0) + 1);
            if (!d.allow) {
              expect(d.sw).toBe(0x6986);
              expect(FIREWALL_RULES.some((r) => r.id === d.rule)).toBe(true);
            }
            if (want === 'sign-pka-input' || want === 'sign-pka-hash') used++;
            expect(fw.signaturesUsed).toBe(used);
            expect(used).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 3000 },
    );
    // The generator reaches every allow rule and the signature deny rules, so the property
    // is not vacuously true.
    for (const rule of [
      'verify-status',
      'read-public-object',
      'enumerate-objects',
      'get-challenge',
      'sign-pka-input',
      'sign-pka-hash',
      'sign-budget-spent',
      'sign-other-data',
      'malformed',
    ]) {
      expect(seen.get(rule) ?? 0, rule).toBeGreaterThan(0);
    }
  });
});

describe('class byte reasons', () => {
  it.each([
    ['0c', /secure messaging/],
    ['84', /secure messaging/],
    ['10', /command chaining/],
    ['90', /command chaining/],
    ['01', /logical channel/],
    ['83', /logical channel/],
    ['40', /logical channel/],
    ['60', /secure messaging, logical channel/],
    ['20', /reserved class/],
    ['c0', /other proprietary class/],
    ['ff', /invalid class/],
  ])('CLA %s', (cla, why) => {
    const d = createApduFirewall(approval()).inspect(fromHex(`${cla}200081`));
    expect(d).toMatchObject({ allow: false, rule: 'class-not-allowed' });
    if (!d.allow) expect(d.reason).toMatch(why);
  });
});
