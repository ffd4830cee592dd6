import { describe, expect, it } from 'vitest';
import { openPcsc, parseReaderList, type PcscEvent } from '../../../../core/pcsc/pcsc-adapter';
import { CardTransportError } from '../../../../core/card/transport';
import { fakePcsclite, pcscError } from './fake-pcsclite';
import { messageOf } from '../../../../shared/error-message';

const ATR = Uint8Array.of(0x3b, 0x02, 0x14, 0x50);
const R0 = 'Virtual PCD 00 00';
const R1 = 'Virtual PCD 00 01';

async function setup(readers = [R0, R1], timeouts = {}) {
  const fake = fakePcsclite(readers);
  const pcsc = await openPcsc({ loader: fake.loader, timeouts });
  await pcsc.listReaders();
  return { fake, pcsc };
}

const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CardTransportError);
  return e as CardTransportError;
};

describe('openPcsc', () => {
  it('reports a missing native module', async () => {
    const e = await failure(
      openPcsc({
        loader: async () => {
          throw new Error("Cannot find module 'pcsclite'");
        },
      }),
    );
    expect(e.code).toBe('no-native-module');
    expect(e.message).toBe('pcsclite could not be loaded: install libpcsclite-dev and run npm ci');
    expect(messageOf(e.cause)).toContain('Cannot find module');
    expect((await failure(openPcsc({ loader: async () => ({ default: 42 }) }))).code).toBe(
      'no-native-module',
    );
  });

  it('reports pcscd not running', async () => {
    const loader = async () => () => {
      throw new Error(pcscError('SCardEstablishContext', 'Service not available', 0x8010001d));
    };
    const e = await failure(openPcsc({ loader }));
    expect(e.code).toBe('no-service');
    expect(e.message).toBe('PC/SC service not available: start pcscd');
  });

  it('lists readers and replays state to new watchers', async () => {
    const { fake, pcsc } = await setup();
    expect(await pcsc.listReaders()).toEqual([R0, R1]);
    fake.reader(R0).status(true, ATR);
    const events: PcscEvent[] = [];
    pcsc.watch((e) => events.push(e));
    expect(events.map((e) => `${e.type} ${e.reader}`)).toEqual([
      `reader-added ${R0}`,
      `card-inserted ${R0}`,
      `reader-added ${R1}`,
    ]);
    expect(events[1]!.atr).toEqual(ATR);
    await pcsc.close();
  });

  it('turns reader lists and status changes into events', async () => {
    const { fake, pcsc } = await setup([R0]);
    const events: string[] = [];
    const stop = pcsc.watch((e) => events.push(`${e.type} ${e.reader}`));
    fake.ctx.setReaders([R0, R1]);
    fake.reader(R1).status(false);
    fake.reader(R1).status(true, ATR, 1);
    fake.reader(R1).status(true, ATR, 3); // same presence, new event count: swapped card
    fake.reader(R1).status(false, undefined, 4);
    fake.reader(R1).status(true, ATR, 5);
    fake.ctx.setReaders([R0]);
    stop();
    fake.ctx.setReaders([]);
    expect(events).toEqual([
      `reader-added ${R0}`,
      `reader-added ${R1}`,
      `card-inserted ${R1}`,
      `card-removed ${R1}`,
      `card-inserted ${R1}`,
      `card-removed ${R1}`,
      `card-inserted ${R1}`,
      `card-removed ${R1}`,
      `reader-removed ${R1}`,
    ]);
    expect(await pcsc.listReaders()).toEqual([]);
    await pcsc.close();
  });

  it('survives a throwing listener', async () => {
    const { fake, pcsc } = await setup([R0]);
    const seen: string[] = [];
    pcsc.watch(() => {
      throw new Error('listener bug');
    });
    pcsc.watch((e) => seen.push(e.type));
    fake.reader(R0).status(true, ATR);
    expect(seen).toEqual(['reader-added', 'card-inserted']);
    await pcsc.close();
  });

  it('maps a lost context to no-service', async () => {
    const { fake, pcsc } = await setup([R0]);
    const events: string[] = [];
    pcsc.watch((e) => events.push(e.type));
    fake.ctx.emit(
      'error',
      new Error(pcscError('SCardGetStatusChange', 'Service was stopped', 0x8010001e)),
    );
    expect((await failure(pcsc.listReaders())).code).toBe('no-service');
    expect((await failure(pcsc.connect(R0))).code).toBe('no-service');
    expect(events).toEqual(['reader-added', 'reader-removed']);
    await pcsc.close();
  });

  it('times out when pcscd never sends a reader list', async () => {
    const fake = fakePcsclite([], { silent: true });
    const pcsc = await openPcsc({ loader: fake.loader, timeouts: { readyMs: 30 } });
    expect((await failure(pcsc.listReaders())).code).toBe('timeout');
    await pcsc.close();
    expect(fake.ctx.closed).toBe(true);
    expect((await failure(pcsc.listReaders())).code).toBe('closed');
  });
});

describe('PcscCard', () => {
  it('connects exclusive by default, transmits and closes with RESET', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0);
    expect(card.reader).toBe(R0);
    expect(card.atr).toEqual(ATR);
    expect(Buffer.from(await card.transmit(Uint8Array.of(0, 0xa4, 4, 0)))).toEqual(
      Buffer.from([0, 0xa4, 4, 0, 0x90, 0]),
    );
    await card.close();
    await card.close(); // idempotent
    expect(r.calls).toEqual(['connect 1', 'transmit 00a40400', 'disconnect 1']);
    expect((await failure(card.transmit(Uint8Array.of(0, 0, 0, 0)))).code).toBe('closed');
    await pcsc.close();
  });

  it('honours the share mode and dispositions', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0, { share: 'shared' });
    await card.close('leave');
    const again = await pcsc.connect(R0);
    await again.close('unpower');
    expect(r.calls).toEqual(['connect 2', 'disconnect 0', 'connect 1', 'disconnect 2']);
    await pcsc.close();
  });

  it('names unknown readers, missing cards and sharing violations', async () => {
    const { fake, pcsc } = await setup();
    const unknown = await failure(pcsc.connect('Nope'));
    expect(unknown.code).toBe('no-reader');
    expect(unknown.message).toContain(`"${R0}", "${R1}"`);
    fake.reader(R0).onConnect = () => ({
      error: pcscError('SCardConnect', 'No smart card inserted', 0x8010000c),
    });
    const noCard = await failure(pcsc.connect(R0));
    expect(noCard.code).toBe('no-card');
    expect(noCard.message).toContain(R0);
    fake.reader(R1).status(true, ATR);
    fake.reader(R1).onConnect = () => ({
      error: pcscError('SCardConnect', 'Sharing violation', 0x8010000b),
    });
    expect((await failure(pcsc.connect(R1))).code).toBe('sharing-violation');
    fake.reader(R1).onConnect = () => ({ ok: 2 });
    await pcsc.connect(R1);
    const twice = await failure(pcsc.connect(R1));
    expect(twice.code).toBe('sharing-violation');
    await pcsc.close();
    expect(fake.reader(R1).calls.at(-1)).toBe('disconnect 1'); // close() resets open cards
  });

  it('times out a connect that never returns', async () => {
    const { fake, pcsc } = await setup();
    fake.reader(R0).onConnect = () => 'hang';
    const e = await failure(pcsc.connect(R0, { timeoutMs: 20 }));
    expect(e.code).toBe('timeout');
  });

  it('times out a hanging transmit and refuses the handle afterwards', async () => {
    const { fake, pcsc } = await setup([R0], { transmitMs: 30 });
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0);
    r.onTransmit = () => 'hang';
    expect((await failure(card.transmit(Uint8Array.of(0, 1, 2, 3)))).code).toBe('timeout');
    r.onTransmit = (d) => ({ ok: d });
    const after = await failure(card.transmit(Uint8Array.of(0, 1, 2, 3)));
    expect(after.code).toBe('timeout');
    expect(after.message).toContain('reconnect');
    await card.close();
  });

  it('reports removal: PC/SC code, or an empty answer while the card disappears', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    let card = await pcsc.connect(R0);
    r.onTransmit = () => ({ error: pcscError('SCardTransmit', 'Card was removed', 0x80100069) });
    expect((await failure(card.transmit(Uint8Array.of(0, 1, 2, 3)))).code).toBe('card-removed');
    await card.close();
    r.onTransmit = () => ({ ok: Buffer.from([0, 0, 0, 0]) });
    card = await pcsc.connect(R0);
    r.onTransmit = () => {
      setTimeout(() => r.status(false, undefined, 1), 20);
      return { ok: Buffer.alloc(0) };
    };
    const e = await failure(card.transmit(Uint8Array.of(0, 1, 2, 3)));
    expect(e.code).toBe('card-removed');
    expect(e.message).toContain('during the command');
    expect((await failure(card.transmit(Uint8Array.of(0, 1, 2, 3)))).code).toBe('card-removed');
    // The lost connection does not block the reader: a new card can be connected right away.
    r.status(true, ATR, 2);
    const next = await pcsc.connect(R0);
    expect(r.calls.slice(-2)).toEqual(['disconnect 0', 'connect 1']);
    await next.close();
    await card.close();
    await pcsc.close();
  });

  it('reports an empty answer from a card that stays as a protocol error', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0);
    r.onTransmit = () => ({ ok: Buffer.from([0x90]) });
    expect((await failure(card.transmit(Uint8Array.of(0, 1, 2, 3)))).code).toBe('protocol');
    await pcsc.close();
  });

  it('reads part 10 features, empty when unsupported', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0);
    expect((await card.features()).size).toBe(0);
    r.onControl = (code) =>
      code === 0x42000d48
        ? { ok: Buffer.from('060442330006120442330012', 'hex') }
        : { error: 'unexpected' };
    expect([...(await card.features())]).toEqual([
      [0x06, 0x42330006],
      [0x12, 0x42330012],
    ]);
    r.onControl = () => ({ ok: Buffer.from('0603000000', 'hex') });
    expect((await failure(card.features())).code).toBe('protocol');
    r.onControl = () => ({ error: pcscError('SCardControl', 'Card was removed', 0x80100069) });
    expect((await failure(card.features())).code).toBe('card-removed');
    await pcsc.close();
  });

  it('runs a transaction on a shared connection exclusively, and resets by reconnecting', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0, { share: 'shared' });
    const result = await card.transaction(async () => {
      await card.transmit(Uint8Array.of(0, 1, 2, 3));
      return 7;
    });
    expect(result).toBe(7);
    expect(await card.reset()).toEqual(ATR);
    expect(r.calls).toEqual([
      'connect 2',
      'disconnect 0',
      'connect 1',
      'transmit 00010203',
      'disconnect 0',
      'connect 2',
      'disconnect 1',
      'connect 2',
    ]);
    const excl = await pcsc.connect(R1).catch(() => undefined);
    expect(excl).toBeDefined();
    await pcsc.close();
  });

  it('keeps exclusivity when the card is reset inside a transaction', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0, { share: 'shared' });
    await card.transaction(async () => {
      await card.reset();
    });
    expect(r.calls).toEqual([
      'connect 2',
      'disconnect 0',
      'connect 1',
      'disconnect 1',
      'connect 1',
      'disconnect 0',
      'connect 2',
    ]);
    await pcsc.close();
  });

  it('loses the connection cleanly when a transaction cannot get exclusive access', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0, { share: 'shared' });
    r.onConnect = (mode) =>
      mode === 1
        ? { error: pcscError('SCardConnect', 'Sharing violation', 0x8010000b) }
        : { ok: 2 };
    let ran = false;
    const e = await failure(card.transaction(async () => (ran = true)));
    expect(e.code).toBe('sharing-violation');
    expect(ran).toBe(false);
    expect((await failure(card.transmit(Uint8Array.of(0, 1, 2, 3)))).message).toContain(
      'connection lost',
    );
    await pcsc.close();
  });

  it('does not hide a failed RESET on close', async () => {
    const { fake, pcsc } = await setup();
    const r = fake.reader(R0);
    r.status(true, ATR);
    const card = await pcsc.connect(R0);
    r.onDisconnect = () => ({ error: pcscError('SCardDisconnect', 'Internal error', 0x80100001) });
    expect((await failure(card.close())).code).toBe('io');
    r.onDisconnect = () => ({
      error: pcscError('SCardDisconnect', 'Card was removed', 0x80100069),
    });
    const second = await pcsc.connect(R0);
    await expect(second.close()).resolves.toBeUndefined();
    await pcsc.close();
  });
});

describe('parseReaderList', () => {
  it('splits the multi-string', () => {
    expect(parseReaderList(undefined)).toEqual([]);
    expect(parseReaderList(new TextEncoder().encode('A\0B 01\0\0'))).toEqual(['A', 'B 01']);
  });
});
