import { describe, expect, it } from 'vitest';
import { decodeTlv, decodeTlvList, findTlv } from '../../../shared/codec/tlv';
import { SC_HSM_AID, SC_HSM_ATR } from '../../../shared/sc-hsm/constants';
import { ecTemplate, initAndLogin, newCard } from './helpers';

describe('SELECT and applet state', () => {
  it('answers the FCP with tag 85 = options ‖ type ‖ major ‖ minor for P2 00 and 04', () => {
    const h = newCard({ select: false });
    for (const p2 of [0x00, 0x04]) {
      const fcp = h.expectSw(0x9000, 0x00, 0xa4, 0x04, p2, SC_HSM_AID, 256);
      const t = decodeTlv(fcp);
      expect(t.ok && t.value.tag).toBe(0x62);
      if (!t.ok) return;
      const inner = decodeTlvList(t.value.value);
      expect(inner.ok).toBe(true);
      if (!inner.ok) return;
      expect([...findTlv(inner.value, 0x85)!.value]).toEqual([0x00, 0x00, 0x00, 3, 6]);
      expect([...findTlv(inner.value, 0x84)!.value]).toEqual([...SC_HSM_AID]);
    }
    expect(h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID).length).toBe(0);
  });

  it('echoes the option mask after initialization', () => {
    const h = newCard();
    initAndLogin(h, { options: 0x0019, pka: [1, 1] });
    const fcp = h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x04, SC_HSM_AID, 256);
    expect([...fcp.slice(-5)]).toEqual([0x00, 0x19, 0x00, 3, 6]);
  });

  it('is not selected after power-on: 6E00 for proprietary, 6D00 for ISO commands', () => {
    const h = newCard({ select: false });
    expect([...h.card.atr()]).toEqual([...SC_HSM_ATR]);
    h.expectSw(0x6e00, 0x80, 0x58, 0x00, 0x00, undefined, 256);
    h.expectSw(0x6d00, 0x00, 0x20, 0x00, 0x81);
  });

  it('deselects on SELECT of another AID (6A82) and rejects bad P2 (6A86)', () => {
    const h = newCard();
    h.expectSw(0x6a82, 0x00, 0xa4, 0x04, 0x00, Uint8Array.of(0xa0, 0, 0, 1, 0x51, 0, 0));
    h.expectSw(0x6e00, 0x80, 0x50, 0x00, 0x00, undefined, 256);
    h.expectSw(0x6a86, 0x00, 0xa4, 0x04, 0x08, SC_HSM_AID);
    h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
  });

  it('re-select, reset and power cycle log the user out', () => {
    const h = newCard();
    initAndLogin(h);
    h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81);
    h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
    h.expectSw(0x63c3, 0x00, 0x20, 0x00, 0x81);
    for (const cycle of [() => h.card.reset(), () => (h.card.powerOff(), h.card.powerOn())]) {
      h.expectSw(0x9000, 0x00, 0x20, 0x00, 0x81, new TextEncoder().encode('648219'));
      cycle();
      h.expectSw(0x6d00, 0x00, 0x20, 0x00, 0x81);
      h.expectSw(0x9000, 0x00, 0xa4, 0x04, 0x0c, SC_HSM_AID);
      h.expectSw(0x63c3, 0x00, 0x20, 0x00, 0x81);
    }
  });
});

describe('APDU framing', () => {
  it('rejects malformed APDUs with 6700, unknown CLA with 6E00, unknown INS with 6D00, SM with 6882', () => {
    const h = newCard();
    const raw = (bytes: number[]): number => {
      const r = h.card.process(Uint8Array.from(bytes));
      return (r[r.length - 2]! << 8) | r[r.length - 1]!;
    };
    expect(raw([])).toBe(0x6700);
    expect(raw([0x00, 0xa4, 0x04])).toBe(0x6700);
    expect(raw([0x00, 0x20, 0x00, 0x81, 0x05, 0x31])).toBe(0x6700);
    expect(raw([0xa0, 0x20, 0x00, 0x81])).toBe(0x6e00);
    expect(raw([0x00, 0x99, 0x00, 0x00])).toBe(0x6d00);
    expect(raw([0x80, 0x20, 0x00, 0x81])).toBe(0x6e00); // VERIFY is ISO, not proprietary
    expect(raw([0x00, 0x50, 0x00, 0x00])).toBe(0x6e00);
    expect(raw([0x0c, 0x20, 0x00, 0x81])).toBe(0x6882);
  });

  it('answers the 80 50 version query with free memory ‖ 00 ‖ major ‖ minor', () => {
    const h = newCard();
    const v = h.expectSw(0x9000, 0x80, 0x50, 0x00, 0x00, undefined, 256);
    expect(v.length).toBe(7);
    expect([...v.slice(4)]).toEqual([0, 3, 6]);
    expect((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!).toBe(76 * 1024);
  });

  it('splits a response longer than a short Ne with 61xx and GET RESPONSE', () => {
    const h = newCard();
    initAndLogin(h);
    const big = new Uint8Array(600).map((_, i) => i & 0xff);
    const write = Uint8Array.of(0x54, 0x02, 0, 0, 0x53, 0x82, 0x02, 0x58, ...big);
    h.expectSw(0x9000, 0x00, 0xd7, 0xc4, 0x01, write);
    // Extended read: all at once.
    const all = h.expectSw(0x6282, 0x00, 0xb1, 0xc4, 0x01, Uint8Array.of(0x54, 0x02, 0, 0), 65536);
    expect([...all]).toEqual([...big]);
    // A command whose answer does not fit a short Ne: ENUMERATE with Ne=2 → 61xx chain.
    for (let i = 2; i <= 5; i++) h.expectSw(0x9000, 0x00, 0xd7, 0xc8, i, Uint8Array.of(0x53, 0x00));
    const first = h.send(0x80, 0x58, 0x00, 0x00, undefined, 2);
    expect(first.sw).toBe(0x6100 | 10);
    const rest = h.send(0x00, 0xc0, 0x00, 0x00, undefined, 256);
    expect(rest.sw).toBe(0x9000);
    expect([...first.data, ...rest.data]).toEqual([
      0xc4, 0x01, 0xc8, 0x02, 0xc8, 0x03, 0xc8, 0x04, 0xc8, 0x05, 0xcc, 0x00,
    ]);
    h.expectSw(0x6985, 0x00, 0xc0, 0x00, 0x00, undefined, 256);
  });
});

describe('input ownership', () => {
  it('keeps no view into the caller’s buffer (Node Buffer slices are views)', () => {
    const h = newCard();
    initAndLogin(h);
    const t = ecTemplate('UTOWNERSHIP01', 'brainpoolP256r1', [Uint8Array.of(0x91, 0x01, 0x73)]);
    const apdu = Buffer.from([
      0x00,
      0x46,
      0x01,
      0x00,
      0x00,
      t.length >> 8,
      t.length & 0xff,
      ...t,
      0,
      0,
    ]);
    const r = h.card.process(apdu);
    expect([...r.slice(-2)]).toEqual([0x90, 0x00]);
    apdu.fill(0xee); // the caller reuses its buffer
    expect([...h.state.keys.get(1)!.algorithms!]).toEqual([0x73]);
    h.expectSw(0x9000, 0x80, 0x68, 0x01, 0x73, Uint8Array.of(1), 256);
  });
});
