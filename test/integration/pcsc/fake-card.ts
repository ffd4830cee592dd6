/**
 * A tiny VirtualCard test double for PC/SC plumbing tests (not the SmartCard-HSM emulator):
 *   A4 SELECT → 9000 · 10 ECHO → data ‖ 9000 · 20 → a long answer in 61xx pieces (C0 GET RESPONSE)
 *   CA → its own label · EE → yanks itself out of the reader mid-command.
 */
import type { VirtualCard } from '../../../emulator/virtual-card';

const sw = (data: Uint8Array, value: number): Uint8Array => {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = value >> 8;
  out[data.length + 1] = value & 0xff;
  return out;
};

/** The 61xx answer of INS 20: 1000 bytes, a pattern the test can check. */
export const LONG_ANSWER = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) & 0xff);

/** A fake card; `onYank` is called when INS EE arrives (the harness aborts the connection). */
export function fakeCard(
  atr: Uint8Array,
  label: string,
  onYank: () => void = () => undefined,
): VirtualCard & { powerCycles: number } {
  let pending: Uint8Array | undefined;
  const card = {
    powerCycles: 0,
    atr: () => atr,
    powerOn() {
      card.powerCycles += 1;
      pending = undefined;
    },
    powerOff() {
      pending = undefined;
    },
    reset() {
      pending = undefined;
    },
    process(apdu: Uint8Array): Uint8Array {
      const ins = apdu[1];
      if (ins === 0xa4) return sw(new Uint8Array(0), 0x9000);
      if (ins === 0xca) return sw(new TextEncoder().encode(label), 0x9000);
      if (ins === 0x10) {
        // Echo the data field of a short or extended case-3/4 APDU.
        if (apdu.length <= 5) return sw(new Uint8Array(0), 0x9000);
        const ext = apdu[4] === 0 && apdu.length > 7;
        const nc = ext ? (apdu[5]! << 8) | apdu[6]! : apdu[4]!;
        const start = ext ? 7 : 5;
        return sw(apdu.slice(start, start + nc), 0x9000);
      }
      if (ins === 0x20) {
        pending = LONG_ANSWER.slice(200);
        return sw(LONG_ANSWER.slice(0, 200), 0x6100);
      }
      if (ins === 0xc0) {
        if (pending === undefined) return sw(new Uint8Array(0), 0x6985);
        const le = apdu.length > 4 ? apdu[4]! || 256 : 256;
        const part = pending.slice(0, le);
        pending = pending.slice(part.length);
        const left = pending.length;
        if (left === 0) pending = undefined;
        return sw(part, left === 0 ? 0x9000 : 0x6100 | (Math.min(left, 256) & 0xff));
      }
      if (ins === 0xee) {
        onYank();
        return sw(new Uint8Array(0), 0x9000);
      }
      return sw(new Uint8Array(0), 0x6d00);
    },
  };
  return card;
}
