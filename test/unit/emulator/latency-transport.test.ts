import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CardTransport } from '../../../core/card/transport';
import {
  commandDelayMs,
  NO_LATENCY,
  SC_HSM_USB_LATENCY,
  withCardLatency,
} from '../../../emulator/latency-transport';

/** A card that answers at once and records what reached it, and when (fake clock). */
function recordingCard(fail?: (apdu: Uint8Array) => boolean) {
  const seen: { what: string; at: number }[] = [];
  const inner: CardTransport = {
    atr: Uint8Array.of(0x3b, 0x8e),
    transmit(apdu) {
      seen.push({ what: apdu[1]!.toString(16).padStart(2, '0'), at: Date.now() });
      if (fail?.(apdu)) return Promise.reject(new Error('card error'));
      return Promise.resolve(Uint8Array.of(apdu[1]!, 0x90, 0x00));
    },
    reset() {
      seen.push({ what: 'reset', at: Date.now() });
      return Promise.resolve(Uint8Array.of(0x3b));
    },
    close(d = 'reset') {
      seen.push({ what: `close-${d}`, at: Date.now() });
      return Promise.resolve();
    },
    transaction: (fn) => fn(),
  };
  return { inner, seen };
}

const apdu = (ins: number) => Uint8Array.of(0x00, ins, 0x00, 0x00);

afterEach(() => {
  vi.useRealTimers();
});

describe('card latency model', () => {
  it('has the documented SmartCard-HSM over USB defaults', () => {
    expect(SC_HSM_USB_LATENCY).toEqual({
      simpleMs: 4,
      verifyPinMs: 10,
      signMs: 60,
      externalAuthenticateMs: 60,
      resetMs: 10,
    });
  });

  it.each([
    [0xa4, 'SELECT', 4],
    [0x84, 'GET CHALLENGE', 4],
    [0x22, 'MSE', 4],
    [0xb1, 'READ BINARY', 4],
    [0x20, 'VERIFY', 10],
    [0x68, 'SIGN', 60],
    [0x82, 'EXTERNAL AUTHENTICATE', 60],
  ])('delays INS %s (%s) by %i ms before the card sees it', async (ins, _name, ms) => {
    expect(commandDelayMs(apdu(ins), SC_HSM_USB_LATENCY)).toBe(ms);
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard();
    const t = withCardLatency(inner);
    const answer = t.transmit(apdu(ins));
    await vi.advanceTimersByTimeAsync(ms - 1);
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([{ what: ins.toString(16).padStart(2, '0'), at: ms }]);
    expect(await answer).toEqual(Uint8Array.of(ins, 0x90, 0x00));
  });

  it('runs commands one after another in the order they were sent', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard();
    const t = withCardLatency(inner);
    const order: number[] = [];
    const all = [0x68, 0xa4, 0x20, 0x82].map((ins) =>
      t.transmit(apdu(ins)).then((r) => order.push(r[0]!)),
    );
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(all);
    expect(seen).toEqual([
      { what: '68', at: 60 },
      { what: 'a4', at: 64 },
      { what: '20', at: 74 },
      { what: '82', at: 134 },
    ]);
    expect(order).toEqual([0x68, 0xa4, 0x20, 0x82]);
  });

  it('charges the reset time for reset and for a release with reset or unpower, not for leave', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard();
    const t = withCardLatency(inner, { resetMs: 25 });
    void t.reset();
    void t.close('leave');
    void t.close();
    void t.close('unpower');
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([
      { what: 'reset', at: 25 },
      { what: 'close-leave', at: 25 },
      { what: 'close-reset', at: 50 },
      { what: 'close-unpower', at: 75 },
    ]);
  });

  it('takes configured delays, and a zero model adds no timer at all', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard();
    const slow = withCardLatency(inner, { signMs: 150, simpleMs: 1 });
    void slow.transmit(apdu(0x68));
    void slow.transmit(apdu(0xa4));
    await vi.advanceTimersByTimeAsync(200);
    expect(seen.map((s) => s.at)).toEqual([150, 151]);
    const none = withCardLatency(inner, NO_LATENCY);
    await none.transmit(apdu(0x68)); // resolves without advancing the fake clock
    expect(seen[2]).toEqual({ what: '68', at: 200 });
  });

  it('a failed command does not hold up the next one', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard((a) => a[1] === 0x20);
    const t = withCardLatency(inner);
    const bad = t.transmit(apdu(0x20));
    const good = t.transmit(apdu(0xa4));
    const caught = bad.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20);
    expect(await caught).toBeInstanceOf(Error);
    expect(await good).toEqual(Uint8Array.of(0xa4, 0x90, 0x00));
    expect(seen.map((s) => s.at)).toEqual([10, 14]);
  });

  it('keeps the event loop running while the card works (a timer, not a busy wait)', async () => {
    const { inner } = recordingCard();
    const t = withCardLatency(inner, { signMs: 30 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await t.transmit(apdu(0x68));
    clearInterval(ticker);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(ticks).toBeGreaterThan(0);
  });
});
