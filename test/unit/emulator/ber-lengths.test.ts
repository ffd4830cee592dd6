/**
 * Issue 13 point 2: the card reads command data as BER, so a length written in more octets than
 * needed (`53 81 14`, `53 82 00 14`, `53 83 00 00 14`, `53 84 00 00 00 14`) means the same as
 * `53 14` in every command that carries TLVs; what the card verifies as a signed object (CVCs
 * for PSO VERIFY CERTIFICATE) stays strict DER. Before the fix every long form gave 6A80.
 */
import { describe, expect, it } from 'vitest';
import { asciiBytes, concatBytes, fromHex } from '../../../shared/codec/bytes';
import { encodeTlv, tagBytes } from '../../../shared/codec/tlv';
import { parseAuthenticatedRequest } from '../../../shared/cvc/cvc';
import {
  deviceChain,
  ecTemplate,
  initAndLogin,
  initData,
  newCard,
  testCa,
  USER_PIN,
} from './helpers';

/** `tag`, then the length in `n` octets after the `80|n` byte (n = 0: the short form). */
function ber(tag: number, value: Uint8Array, n: number): Uint8Array {
  if (n === 0) return concatBytes(tagBytes(tag), Uint8Array.of(value.length));
  const len = new Uint8Array(n);
  for (let i = 0, l = value.length; i < n; i++, l = Math.floor(l / 256)) len[n - 1 - i] = l % 256;
  return concatBytes(tagBytes(tag), Uint8Array.of(0x80 | n), len, value);
}

const FORMS = [1, 2, 3, 4];
const payload = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);

describe('BER non-minimal lengths in command data', () => {
  it.each(FORMS)(
    'UPDATE BINARY 54/53 with %i length octets writes what READ BINARY returns',
    (n) => {
      const h = newCard();
      initAndLogin(h);
      const at = (offset: number) => ber(0x54, Uint8Array.of(0, offset), n);
      h.expectSw(0x9000, 0x00, 0xd7, 0x10, 0x01, concatBytes(at(0), ber(0x53, payload, n)));
      h.expectSw(0x9000, 0x00, 0xd7, 0x10, 0x01, concatBytes(at(20), ber(0x53, payload, n)));
      const read = h.expectSw(0x6282, 0x00, 0xb1, 0x10, 0x01, at(0), 256);
      expect(read).toEqual(concatBytes(payload, payload));
    },
  );

  it("the issue's exact bytes: 54 02 00 00 53 82 00 14 <20 bytes>", () => {
    const h = newCard();
    initAndLogin(h);
    const data = concatBytes(fromHex('5402000053820014'), payload);
    h.expectSw(0x9000, 0x00, 0xd7, 0x10, 0x02, data);
    expect(h.state.files.get(0x1002)).toEqual(payload);
  });

  it.each(FORMS)('INITIALIZE with %i length octets sets the PIN it carries', (n) => {
    const h = newCard();
    const minimal = initData();
    // Re-encode the user PIN (81) with a long-form length, keep everything else.
    const data = concatBytes(
      encodeTlv(0x80, Uint8Array.of(0, 1)),
      ber(0x81, USER_PIN, n),
      ...[0x82, 0x91].map((tag) => {
        const at = minimal.indexOf(tag, 4);
        return minimal.subarray(at, at + 2 + minimal[at + 1]!);
      }),
    );
    h.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, data);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, USER_PIN);
  });

  it.each(FORMS)('GENERATE ASYMMETRIC KEY PAIR with %i length octets in 7F49 and 5F20', (n) => {
    const h = newCard();
    initAndLogin(h);
    const tpl = ecTemplate('UTBERKEY00001', 'secp256r1');
    // ecTemplate = 5F29 01 00 ‖ 42 09 … ‖ 7F49 81 xx … ‖ 5F20 0D …: rebuild 7F49 and 5F20.
    const at = tpl.indexOf(0x7f);
    const pkLen = tpl[at + 3]!;
    const pk = tpl.subarray(at + 4, at + 4 + pkLen);
    const data = concatBytes(
      tpl.subarray(0, at),
      ber(0x7f49, pk, Math.max(n, 1)),
      ber(0x5f20, asciiBytes('UTBERKEY00001'), n),
    );
    const req = parseAuthenticatedRequest(h.expectSw(0x9000, 0x00, 0x46, 0x01, 0x00, data, 65536));
    expect(req.ok && req.value.inner.body.chr).toBe('UTBERKEY00001');
  });

  it.each(FORMS)('MSE SET AT 83 with %i length octets selects the root key', (n) => {
    const h = newCard();
    const root = asciiBytes(testCa().root.chr);
    h.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, ber(0x83, root, n));
  });

  it('lengths beyond four octets and the indefinite form stay refused (6A80)', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x6a80, 0x00, 0xd7, 0x10, 0x01, concatBytes(fromHex('53850000000014'), payload));
    h.expectSw(
      0x6a80,
      0x00,
      0xd7,
      0x10,
      0x01,
      concatBytes(fromHex('5380'), payload, fromHex('0000')),
    );
    // A long form that claims more than is there is truncation, not BER leniency.
    h.expectSw(0x6a80, 0x00, 0xd7, 0x10, 0x01, concatBytes(fromHex('53820015'), payload));
  });

  it('a CVC given to PSO VERIFY CERTIFICATE stays strict DER: a long-form 5F37 is refused', () => {
    const target = newCard();
    const { dica } = deviceChain(newCard());
    // dica = 7F21 82 LLLL { 7F4E 82 LLLL … , 5F37 xx <signature> }: long-form the signature.
    const body = dica.subarray(4);
    const sigAt = body.lastIndexOf(0x5f, body.length - 2 - 64);
    const sig = body.subarray(sigAt + 3);
    const lenient = concatBytes(body.subarray(0, sigAt), ber(0x5f37, sig, 2));
    target.expectSw(0x9000, 0x00, 0x22, 0x81, 0xb6, encodeTlv(0x83, asciiBytes(testCa().root.chr)));
    target.expectSw(0x6a80, 0x00, 0x2a, 0x00, 0xbe, lenient);
    // The same certificate in DER is accepted: only the encoding made the difference.
    target.expectSw(0x9000, 0x00, 0x2a, 0x00, 0xbe, body);
  });
});
