/**
 * Issue 13 through pcscd with an independent client (`opensc-tool -s`, raw APDUs in one card
 * session): BER long-form lengths in UPDATE BINARY, READ BINARY past the end (`6282`, also
 * with extended Le 0000), DELETE FILE in the form the card knows (`00 E4 02 00`) and the ISO
 * "by identifier" form it refuses (`00 E4 00 00` → 6A86), and class enforcement (`80 58`,
 * `00 84`; the other class → 6E00). docs/card-reference.md states each with its source.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asciiBytes, toHex } from '../../../shared/codec/bytes';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { expectSuccess, USER_PIN } from './opensc-card';
import { withOpenscTools } from './opensc-tools';
import { Pkcs11Session } from './pkcs11-session';

const { availability, tools } = withOpenscTools(await pcscAvailability());

const colon = (hex: string) => hex.replace(/\s+/g, '').replace(/(..)(?!$)/g, '$1:');
const SELECT = colon(
  `00a4040c${SC_HSM_AID.length.toString(16).padStart(2, '0')}${toHex(SC_HSM_AID)}`,
);
const LOGIN = colon(
  `00200081${USER_PIN.length.toString(16).padStart(2, '0')}${toHex(asciiBytes(USER_PIN))}`,
);
const PAYLOAD = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3';

describePcsc('opensc-tool -s: command forms against the emulator', availability, (slots) => {
  let s: Pkcs11Session;

  beforeAll(async () => {
    s = await Pkcs11Session.start(tools!, slots[0]!, 'opensc-forms-');
  }, 60_000);

  afterAll(async () => {
    await s?.close();
  });

  /** Sends SELECT, VERIFY and `apdus` in one session; returns [sw, data hex] of each of `apdus`. */
  async function send(...apdus: string[]): Promise<{ sw: string; data: string }[]> {
    const args = [SELECT, LOGIN, ...apdus.map(colon)].flatMap((a) => ['-s', a]);
    const r = expectSuccess('opensc-tool -s', await s.card.openscTool(...args));
    const out: { sw: string; data: string }[] = [];
    const re = /Received \(SW1=0x(..), SW2=0x(..)\)(?::?\n((?:[0-9A-F]{2} [^\n]*\n)*))?/g;
    for (const m of r.stdout.matchAll(re)) {
      const data = (m[3] ?? '')
        .split('\n')
        .map((line) => (/^((?:[0-9A-F]{2} )+)/.exec(`${line} `)?.[1] ?? '').replace(/ /g, ''))
        .join('')
        .toLowerCase();
      out.push({ sw: `${m[1]}${m[2]}`.toLowerCase(), data });
    }
    expect(out.slice(0, 2).map((x) => x.sw)).toEqual(['9000', '9000']);
    return out.slice(2);
  }

  it('UPDATE BINARY with 53 82 00 14 (and 81 14, 83 00 00 14) writes; READ BINARY past the end is 6282', async () => {
    const r = await send(
      `00d71001 1c 5402 0000 53820014 ${PAYLOAD}`,
      `00d71002 1b 5402 0000 538114 ${PAYLOAD}`,
      `00d71003 1d 5402 0000 5383000014 ${PAYLOAD}`,
      `00b11001 04 54020000 00`,
      `00b11003 00 0004 54020000 0000`,
      `00b11002 04 54020000 00`,
    );
    expect(r.map((x) => x.sw)).toEqual(['9000', '9000', '9000', '6282', '6282', '6282']);
    for (const x of r.slice(3)) expect(x.data).toBe(PAYLOAD);
  });

  it('DELETE FILE: 00 E4 02 00 deletes, 00 E4 00 00 (FID in the data) is refused with 6A86', async () => {
    const r = await send(
      `00d71010 1c 5402 0000 53820014 ${PAYLOAD}`,
      `00e40000 02 1010`,
      `00b11010 04 54020000 00`,
      `00e40200 02 1010`,
      `00b11010 04 54020000 00`,
    );
    expect(r.map((x) => x.sw)).toEqual(['9000', '6a86', '6282', '9000', '6a82']);
  });

  it('class bytes are enforced: 80 58 and 00 84 work, 00 58 and 80 84 answer 6E00', async () => {
    const r = await send('80580000 00', '00580000 00', '00840000 08', '80840000 08');
    expect(r.map((x) => x.sw)).toEqual(['9000', '6e00', '9000', '6e00']);
    expect(r[2]!.data).toMatch(/^[0-9a-f]{16}$/);
  });
});
