import { describe, expect, it } from 'vitest';
import { CardTransportError } from '../../../core/card/transport';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { SC_HSM_AID, SC_HSM_ATR } from '../../../shared/sc-hsm/constants';
import { newCard, USER_PIN } from './helpers';

const SELECT = Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, 0x0b, ...SC_HSM_AID);
const sw = (r: Uint8Array): number => (r[r.length - 2]! << 8) | r[r.length - 1]!;

describe('in-process transport', () => {
  it('transmits APDUs, resets (logging out) and closes', async () => {
    const h = newCard({ select: false });
    const t = createInProcessTransport(h.card);
    expect([...t.atr]).toEqual([...SC_HSM_ATR]);
    expect(sw(await t.transmit(SELECT))).toBe(0x9000);
    const init = Uint8Array.of(0x81, 0x06, ...USER_PIN, 0x82, 0x08, 1, 2, 3, 4, 5, 6, 7, 8);
    expect(sw(await t.transmit(Uint8Array.of(0x80, 0x50, 0, 0, init.length, ...init)))).toBe(
      0x9000,
    );
    expect(sw(await t.transmit(Uint8Array.of(0x00, 0x20, 0, 0x81, 6, ...USER_PIN)))).toBe(0x9000);
    expect([...(await t.reset())]).toEqual([...SC_HSM_ATR]);
    expect(sw(await t.transmit(SELECT))).toBe(0x9000);
    expect(sw(await t.transmit(Uint8Array.of(0x00, 0x20, 0, 0x81)))).toBe(0x63c3);
    await expect(t.transmit(Uint8Array.of(1, 2))).rejects.toBeInstanceOf(CardTransportError);
    await t.close();
    await expect(t.transmit(SELECT)).rejects.toMatchObject({ code: 'closed' });
    await t.close(); // idempotent
  });

  it('runs transactions one at a time, also when one fails', async () => {
    const h = newCard();
    const t = createInProcessTransport(h.card);
    const order: string[] = [];
    const slow = (name: string, ms: number, fail = false) =>
      t.transaction(async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([slow('a', 20, true), slow('b', 5), slow('c', 1)]);
    expect(order).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });
});
