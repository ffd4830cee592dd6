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

/** A command with instruction `ins`; a VERIFY carries a (one-digit) PIN, as one that checks it. */
const apdu = (ins: number) =>
  ins === 0x20
    ? Uint8Array.of(0x00, ins, 0x00, 0x81, 0x01, 0x31)
    : Uint8Array.of(0x00, ins, 0x00, 0x00);

/** When (fake clock) and how a promise settled; `at` stays undefined until it does. */
function settledAt(p: Promise<unknown>): { at?: number; value?: unknown; error?: unknown } {
  const s: { at?: number; value?: unknown; error?: unknown } = {};
  p.then(
    (value) => Object.assign(s, { at: Date.now(), value }),
    (error: unknown) => Object.assign(s, { at: Date.now(), error }),
  );
  return s;
}

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
  ])(
    'INS %s (%s): the card sees it at once, the answer comes after %i ms',
    async (ins, _name, ms) => {
      expect(commandDelayMs(apdu(ins), SC_HSM_USB_LATENCY)).toBe(ms);
      vi.useFakeTimers({ now: 0 });
      const { inner, seen } = recordingCard();
      const t = withCardLatency(inner);
      const done = settledAt(t.transmit(apdu(ins)));
      await vi.advanceTimersByTimeAsync(0);
      expect(seen).toEqual([{ what: ins.toString(16).padStart(2, '0'), at: 0 }]);
      await vi.advanceTimersByTimeAsync(ms - 1);
      expect(done.at).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(done.at).toBe(ms);
      expect(done.value).toEqual(Uint8Array.of(ins, 0x90, 0x00));
    },
  );

  it('VERIFY with a PIN takes the VERIFY time; VERIFY without data (PIN status) is simple', () => {
    const l = { ...SC_HSM_USB_LATENCY, verifyPinMs: 33 };
    const withPin = Uint8Array.of(0x00, 0x20, 0x00, 0x81, 0x06, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36);
    expect(commandDelayMs(withPin, l)).toBe(33);
    expect(commandDelayMs(Uint8Array.of(0x00, 0x20, 0x00, 0x81), l)).toBe(l.simpleMs);
    expect(commandDelayMs(Uint8Array.of(0x00, 0x20, 0x00, 0x81, 0x00), l)).toBe(l.simpleMs);
  });

  it('runs commands one after another in the order they were sent', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard();
    const t = withCardLatency(inner);
    const all = [0x68, 0xa4, 0x20, 0x82].map((ins) => settledAt(t.transmit(apdu(ins))));
    await vi.advanceTimersByTimeAsync(200);
    expect(seen).toEqual([
      { what: '68', at: 0 },
      { what: 'a4', at: 60 },
      { what: '20', at: 64 },
      { what: '82', at: 74 },
    ]);
    expect(all.map((a) => a.at)).toEqual([60, 64, 74, 134]);
    expect(all.map((a) => (a.value as Uint8Array)[0])).toEqual([0x68, 0xa4, 0x20, 0x82]);
  });

  it("a command takes max(model, the card's own time), not their sum", async () => {
    vi.useFakeTimers({ now: 0 });
    const slowCard = (ms: number): CardTransport => ({
      ...recordingCard().inner,
      transmit: (a) =>
        new Promise((resolve) => setTimeout(() => resolve(Uint8Array.of(a[1]!, 0x90, 0x00)), ms)),
    });
    const faster = settledAt(withCardLatency(slowCard(25)).transmit(apdu(0x68)));
    const slower = settledAt(withCardLatency(slowCard(100)).transmit(apdu(0x68)));
    await vi.advanceTimersByTimeAsync(200);
    expect(faster.at).toBe(60);
    expect(slower.at).toBe(100);
  });

  it('charges the reset time for reset and for a release with reset or unpower, not for leave', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard();
    const t = withCardLatency(inner, { resetMs: 25 });
    const all = [t.reset(), t.close('leave'), t.close(), t.close('unpower')].map(settledAt);
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([
      { what: 'reset', at: 0 },
      { what: 'close-leave', at: 25 },
      { what: 'close-reset', at: 25 },
      { what: 'close-unpower', at: 50 },
    ]);
    expect(all.map((a) => a.at)).toEqual([25, 25, 50, 75]);
  });

  it('takes configured delays, and a zero model adds no timer at all', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard();
    const slow = withCardLatency(inner, { signMs: 150, simpleMs: 1 });
    const both = [slow.transmit(apdu(0x68)), slow.transmit(apdu(0xa4))].map(settledAt);
    await vi.advanceTimersByTimeAsync(200);
    expect(seen.map((s) => s.at)).toEqual([0, 150]);
    expect(both.map((a) => a.at)).toEqual([150, 151]);
    const none = withCardLatency(inner, NO_LATENCY);
    await none.transmit(apdu(0x68)); // resolves without advancing the fake clock
    expect(seen[2]).toEqual({ what: '68', at: 200 });
  });

  it('a failed command does not hold up the next one', async () => {
    vi.useFakeTimers({ now: 0 });
    const { inner, seen } = recordingCard((a) => a[1] === 0x20);
    const t = withCardLatency(inner);
    const bad = settledAt(t.transmit(apdu(0x20)));
    const good = settledAt(t.transmit(apdu(0xa4)));
    await vi.advanceTimersByTimeAsync(20);
    expect(bad.error).toBeInstanceOf(Error);
    expect(bad.at).toBe(10);
    expect(good.value).toEqual(Uint8Array.of(0xa4, 0x90, 0x00));
    expect(seen.map((s) => s.at)).toEqual([0, 10]);
    expect(good.at).toBe(14);
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
