import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { openPcsc, type Pcsc, type PcscEvent } from '../../../core/pcsc/pcsc-adapter';
import { ApduChannel } from '../../../core/card/apdu-channel';
import { CardTransportError } from '../../../core/card/transport';
import { command } from '../../../shared/codec/apdu';
import { SC_HSM_ATR } from '../../../shared/sc-hsm/constants';
import { describePcsc, pcscAvailability, type VpcdSlot } from '../helpers/pcscd';
import { insertVirtualCard, nextEvent, type InsertedCard } from '../helpers/virtual-card-harness';
import { fakeCard, LONG_ANSWER } from './fake-card';

const availability = await pcscAvailability();
const OTHER_ATR = Uint8Array.of(0x3b, 0x02, 0x14, 0x50);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describePcsc('PC/SC through pcscd and vpcd', availability, (slots) => {
  let pcsc: Pcsc;
  const inserted: InsertedCard[] = [];
  let slot0: VpcdSlot;
  let slot1: VpcdSlot;

  beforeAll(async () => {
    pcsc = await openPcsc();
    [slot0, slot1] = [slots[0]!, slots[1]!];
  });
  afterEach(async () => {
    for (const c of inserted.splice(0)) await c.stop();
  });
  afterAll(async () => {
    await pcsc?.close();
  });

  const insert = async (slot: VpcdSlot, label: string, atr = SC_HSM_ATR) => {
    const holder: { card?: InsertedCard } = {};
    const card = await insertVirtualCard(
      fakeCard(atr, label, () => holder.card?.connection.abort()),
      slot,
      { pcsc },
    );
    holder.card = card;
    inserted.push(card);
    return card;
  };

  it('lists both vpcd readers', async () => {
    const names = await pcsc.listReaders();
    expect(names).toContain(slot0.reader);
    expect(names).toContain(slot1.reader);
    expect(slot1.port).toBe(slot0.port + 1);
  });

  it('reports card insertion with the ATR, and removal', async () => {
    // The harness itself waits for pcscd's card-inserted event; its ATR is the card's.
    const card = await insert(slot0, 'A');
    expect(card.atr).toEqual(SC_HSM_ATR);
    const events: PcscEvent[] = [];
    const stop = pcsc.watch((e) => {
      if (e.reader === slot0.reader) events.push(e);
    });
    // Replay of the current state, then the removal.
    await card.stop();
    stop();
    expect(events.map((e) => e.type)).toEqual(['reader-added', 'card-inserted', 'card-removed']);
    expect(events[1]!.atr).toEqual(SC_HSM_ATR);
  });

  it('round-trips short and 3 KB extended APDUs and collects 61xx answers', async () => {
    await insert(slot0, 'A');
    const card = await pcsc.connect(slot0.reader);
    try {
      expect(card.atr).toEqual(SC_HSM_ATR);
      const ch = new ApduChannel(card);
      expect(ch.extendedLength).toBe(true);
      expect((await ch.send(command(0, 0xa4, 4, 0x0c))).sw).toBe(0x9000);
      const big = Uint8Array.from({ length: 3072 }, (_, i) => (i * 13) & 0xff);
      const echo = await ch.send(command(0, 0x10, 0, 0, big, 65536));
      expect(echo.sw).toBe(0x9000);
      expect(echo.data).toEqual(big);
      const long = await ch.send(command(0, 0x20, 0, 0, undefined, 256));
      expect(long.sw).toBe(0x9000);
      expect(long.data).toEqual(LONG_ANSWER);
      expect((await card.features()).size).toBe(0); // vpcd has no part 10 features
    } finally {
      await card.close();
    }
  });

  it('reports a card removed mid-command as card-removed', async () => {
    const yanked = await insert(slot0, 'A');
    const card = await pcsc.connect(slot0.reader);
    const removed = nextEvent(
      pcsc,
      (e) => e.type === 'card-removed' && e.reader === slot0.reader,
      10_000,
      'removal',
    );
    const e = await card.transmit(Uint8Array.of(0, 0xee, 0, 0)).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(CardTransportError);
    expect((e as CardTransportError).code).toBe('card-removed');
    await removed;
    await card.close();
    await yanked.stop(); // releases the slot
    // A new card in the same reader works.
    await insert(slot0, 'B');
    const again = await pcsc.connect(slot0.reader);
    expect(
      text((await new ApduChannel(again).send(command(0, 0xca, 0, 0, undefined, 256))).data),
    ).toBe('B');
    await again.close();
  });

  it('leaves pcscd healthy after close: reconnects, also from a new context', async () => {
    await insert(slot0, 'A');
    for (let i = 0; i < 3; i += 1) {
      const card = await pcsc.connect(slot0.reader, { share: i === 1 ? 'shared' : 'exclusive' });
      expect((await new ApduChannel(card).send(command(0, 0xa4, 4, 0x0c))).sw).toBe(0x9000);
      await card.close(i === 2 ? 'leave' : 'reset');
    }
    const second = await openPcsc();
    try {
      const card = await second.connect(slot0.reader);
      expect((await new ApduChannel(card).send(command(0, 0xca, 0, 0, undefined, 256))).sw).toBe(
        0x9000,
      );
      await card.close();
    } finally {
      await second.close();
    }
  });

  it('refuses a second exclusive connection from another context', async () => {
    await insert(slot0, 'A');
    const card = await pcsc.connect(slot0.reader);
    const other = await openPcsc();
    try {
      const e = await other.connect(slot0.reader, { timeoutMs: 5000 }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect((e as CardTransportError).code).toBe('sharing-violation');
    } finally {
      await other.close();
      await card.close();
    }
  });

  it('runs a transaction on a shared connection and resets the card', async () => {
    await insert(slot0, 'A');
    const card = await pcsc.connect(slot0.reader, { share: 'shared' });
    try {
      const label = await card.transaction(async () => {
        const other = await openPcsc();
        try {
          // While the transaction holds the card, nobody else gets in.
          const e = await other.connect(slot0.reader, { share: 'shared' }).then(
            (c) => c.close().then(() => undefined),
            (x: unknown) => x,
          );
          expect((e as CardTransportError | undefined)?.code).toBe('sharing-violation');
        } finally {
          await other.close();
        }
        return text(
          (await new ApduChannel(card).send(command(0, 0xca, 0, 0, undefined, 256))).data,
        );
      });
      expect(label).toBe('A');
      expect(await card.reset()).toEqual(SC_HSM_ATR);
      expect((await card.transmit(Uint8Array.of(0, 0xa4, 4, 0x0c))).at(-2)).toBe(0x90);
    } finally {
      await card.close();
    }
  });

  it('serves two cards on the two readers at once', async () => {
    await insert(slot0, 'left');
    await insert(slot1, 'right', OTHER_ATR);
    const [a, b] = await Promise.all([pcsc.connect(slot0.reader), pcsc.connect(slot1.reader)]);
    try {
      expect(a.atr).toEqual(SC_HSM_ATR);
      expect(b.atr).toEqual(OTHER_ATR);
      const label = (c: typeof a) =>
        new ApduChannel(c).send(command(0, 0xca, 0, 0, undefined, 256));
      const [ra, rb] = await Promise.all([label(a), label(b)]);
      expect(text(ra.data)).toBe('left');
      expect(text(rb.data)).toBe('right');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('names a missing card and an unknown reader', async () => {
    const noCard = await pcsc.connect(slot1.reader, { timeoutMs: 5000 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect((noCard as CardTransportError).code).toBe('no-card');
    const noReader = await pcsc.connect('No Such Reader 00 00').then(
      () => undefined,
      (x: unknown) => x,
    );
    expect((noReader as CardTransportError).code).toBe('no-reader');
  });
});
