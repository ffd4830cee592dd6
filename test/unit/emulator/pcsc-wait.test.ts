import { describe, expect, it, vi } from 'vitest';
import type { Pcsc, PcscEvent } from '../../../core/pcsc/pcsc-adapter';
import { findSystemBinary, isCardPresent, nextEvent } from '../../../emulator/pcsc-wait';

/** A Pcsc whose events the test emits; `initial` is replayed on every watch, as pcscd does. */
function fakePcsc(initial: PcscEvent[] = []) {
  const listeners = new Set<(e: PcscEvent) => void>();
  const pcsc = {
    watch(listener: (e: PcscEvent) => void) {
      for (const e of initial) listener(e);
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as Pcsc;
  return { pcsc, listeners, emit: (e: PcscEvent) => [...listeners].forEach((l) => l(e)) };
}

describe('nextEvent (shared by the demo and the test harness)', () => {
  it('resolves with the first matching event and stops watching', async () => {
    const f = fakePcsc();
    const p = nextEvent(f.pcsc, (e) => e.type === 'card-inserted', 1000, 'insert');
    f.emit({ type: 'reader-added', reader: 'R' });
    f.emit({ type: 'card-inserted', reader: 'R' });
    await expect(p).resolves.toEqual({ type: 'card-inserted', reader: 'R' });
    await Promise.resolve();
    expect(f.listeners.size).toBe(0);
  });

  it('resolves from the replayed state', async () => {
    const f = fakePcsc([{ type: 'card-inserted', reader: 'R' }]);
    await expect(nextEvent(f.pcsc, (e) => e.reader === 'R', 1000, 'x')).resolves.toMatchObject({
      reader: 'R',
    });
    expect(f.listeners.size).toBe(0);
  });

  it('rejects after the deadline naming what it waited for, and ignores later events', async () => {
    vi.useFakeTimers();
    try {
      const f = fakePcsc();
      const p = nextEvent(f.pcsc, (e) => e.type === 'card-removed', 500, 'removal of R');
      const settled = expect(p).rejects.toThrow(/removal of R: pcscd did not report it within 500/);
      await vi.advanceTimersByTimeAsync(500);
      await settled;
      expect(f.listeners.size).toBe(0);
      f.emit({ type: 'card-removed', reader: 'R' }); // no listener left, nothing happens
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('isCardPresent', () => {
  it('reads the replayed state without keeping a watch', () => {
    const f = fakePcsc([
      { type: 'reader-added', reader: 'A' },
      { type: 'card-inserted', reader: 'A' },
      { type: 'reader-added', reader: 'B' },
    ]);
    expect(isCardPresent(f.pcsc, 'A')).toBe(true);
    expect(isCardPresent(f.pcsc, 'B')).toBe(false);
    expect(f.listeners.size).toBe(0);
  });
});

describe('findSystemBinary', () => {
  it('finds an installed binary by absolute path and reports a missing one', () => {
    expect(findSystemBinary('sh')).toMatch(/^\/(usr\/)?bin\/sh$/);
    expect(findSystemBinary('no-such-binary-custodian')).toBeUndefined();
  });
});
