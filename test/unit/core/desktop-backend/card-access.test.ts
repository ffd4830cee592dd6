import { describe, expect, it } from 'vitest';
import {
  hasPinPad,
  pcscCardAccess,
  serialQueue,
} from '../../../../core/desktop-backend/card-access';
import { CardTransportError } from '../../../../core/card/transport';
import type { Pcsc, PcscCard, PcscEvent } from '../../../../core/pcsc/pcsc-adapter';
import { FEATURE } from '../../../../core/pcsc/features';

function fakePcsc(names: string[], withCard: string[]) {
  const listeners = new Set<(e: PcscEvent) => void>();
  const connects: { reader: string; share: string | undefined }[] = [];
  let closed = 0;
  const pcsc: Pcsc = {
    listReaders: async () => names,
    watch(l) {
      for (const n of names) l({ type: 'reader-added', reader: n });
      for (const n of withCard) l({ type: 'card-inserted', reader: n, atr: Uint8Array.of(0x3b) });
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    async connect(reader, options) {
      connects.push({ reader, share: options?.share });
      const card: PcscCard = {
        reader,
        atr: Uint8Array.of(0x3b),
        transmit: async () => Uint8Array.of(0x90, 0x00),
        reset: async () => Uint8Array.of(0x3b),
        close: async () => undefined,
        transaction: (fn) => fn(),
        control: async () => new Uint8Array(0),
        features: async () => new Map([[FEATURE.VERIFY_PIN_DIRECT, 0x42330006]]),
      };
      return card;
    },
    close: async () => void (closed += 1),
  };
  return {
    pcsc,
    connects,
    emit: (e: PcscEvent) => listeners.forEach((l) => l(e)),
    get closed() {
      return closed;
    },
  };
}

describe('card access over PC/SC', () => {
  it('tracks card presence from PC/SC events and connects exclusively', async () => {
    const f = fakePcsc(['R1', 'R2'], ['R2']);
    const access = pcscCardAccess(async () => f.pcsc);
    let changes = 0;
    access.watch!(() => void (changes += 1));
    expect(await access.listReaders()).toEqual([
      { name: 'R1', cardPresent: false, pinPad: false },
      { name: 'R2', cardPresent: true, pinPad: false },
    ]);
    f.emit({ type: 'card-inserted', reader: 'R1' });
    f.emit({ type: 'card-removed', reader: 'R2' });
    expect(changes).toBeGreaterThanOrEqual(2);
    expect((await access.listReaders()).map((r) => r.cardPresent)).toEqual([true, false]);
    const card = await access.open('R1');
    expect(f.connects).toEqual([{ reader: 'R1', share: 'exclusive' }]);
    expect(await hasPinPad(card)).toBe(true);
    // Once the features were read, the reader list knows the PIN pad.
    expect((await access.listReaders())[0]!.pinPad).toBe(true);
    await access.close!();
    expect(f.closed).toBe(1);
  });

  it('tries PC/SC again after a failure (pcscd may start later)', async () => {
    let attempts = 0;
    const f = fakePcsc(['R1'], []);
    const access = pcscCardAccess(async () => {
      attempts += 1;
      if (attempts === 1) throw new CardTransportError('no-service', 'pcscd is not running');
      return f.pcsc;
    });
    await expect(access.listReaders()).rejects.toThrow('pcscd is not running');
    expect((await access.listReaders()).map((r) => r.name)).toEqual(['R1']);
  });
});

describe('card work helpers', () => {
  it('the queue runs tasks one at a time, also after a failure', async () => {
    const serial = serialQueue();
    const log: string[] = [];
    const slow = (name: string, fail = false) =>
      serial(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([slow('a', true), slow('b'), slow('c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
