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

describe('in-process transport: scheduling like real I/O (issue 12 §3)', () => {
  /** Counts how many event-loop turns (setImmediate callbacks) ran during `work`. */
  async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
    let turns = 0;
    let running = true;
    const tick = (): void => {
      if (!running) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await work();
    running = false;
    return turns;
  }

  it('lets the event loop run between APDUs by default', async () => {
    const h = newCard({ select: false });
    const t = createInProcessTransport(h.card);
    const turns = await turnsDuring(async () => {
      for (let i = 0; i < 20; i++) expect(sw(await t.transmit(SELECT))).toBe(0x9000);
    });
    // One turn per APDU at least (a busy loop of microtasks would give 0).
    expect(turns).toBeGreaterThanOrEqual(19);
  });

  it('a timer due during a long APDU sequence fires before the sequence ends', async () => {
    const h = newCard({ select: false });
    const t = createInProcessTransport(h.card);
    let fired = false;
    let firedAt = -1;
    setTimeout(() => {
      fired = true;
    }, 0);
    for (let i = 0; i < 200 && !fired; i++) {
      await t.transmit(SELECT);
      if (fired) firedAt = i;
    }
    expect(fired).toBe(true);
    expect(firedAt).toBeLessThan(199);
  });

  it('yieldPerApdu: false answers within microtasks (no turn passes)', async () => {
    const h = newCard({ select: false });
    const t = createInProcessTransport(h.card, { yieldPerApdu: false });
    const turns = await turnsDuring(async () => {
      for (let i = 0; i < 20; i++) expect(sw(await t.transmit(SELECT))).toBe(0x9000);
      await t.reset();
    });
    expect(turns).toBe(0);
  });

  it('a close while an APDU waits for its turn fails it as closed', async () => {
    const h = newCard({ select: false });
    const t = createInProcessTransport(h.card);
    const pending = t.transmit(SELECT);
    await t.close('leave');
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    await expect(t.reset()).rejects.toMatchObject({ code: 'closed' });
  });
});
