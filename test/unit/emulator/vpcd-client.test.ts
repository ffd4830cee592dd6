import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connectVpcd, type VpcdConnection } from '../../../emulator/vpcd-client';
import type { VirtualCard } from '../../../emulator/virtual-card';

/** A stand-in for pcscd's vpcd driver: a TCP server speaking the length-prefixed protocol. */
class FakeVpcd {
  private server: Server | undefined;
  socket: Socket | undefined;
  private buffered = Buffer.alloc(0);
  private waiting: ((b: Buffer) => void)[] = [];
  readonly ended: Promise<void>;
  private markEnded: () => void = () => undefined;

  constructor() {
    this.ended = new Promise((r) => (this.markEnded = r));
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve) => {
      this.server = createServer((s) => {
        this.socket = s;
        s.on('data', (d: Buffer) => {
          this.buffered = Buffer.concat([this.buffered, d]);
          this.drain();
        });
        s.on('end', () => {
          this.markEnded();
          s.end();
        });
        s.on('error', () => undefined);
      });
      this.server.listen(port, '127.0.0.1', () =>
        resolve((this.server!.address() as AddressInfo).port),
      );
    });
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.buffered.length >= 2) {
      const len = this.buffered.readUInt16BE(0);
      if (this.buffered.length < 2 + len) return;
      const frame = this.buffered.subarray(2, 2 + len);
      this.buffered = this.buffered.subarray(2 + len);
      this.waiting.shift()!(Buffer.from(frame));
    }
  }

  /** Sends one frame, optionally split into single bytes to exercise reassembly. */
  send(payload: number[] | Uint8Array, split = false): void {
    const p = Buffer.from(payload);
    const frame = Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p]);
    if (!split) this.socket!.write(frame);
    else for (const b of frame) this.socket!.write(Buffer.from([b]));
  }

  next(): Promise<Buffer> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.drain();
    });
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function recordingCard(): VirtualCard & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    atr: () => Uint8Array.of(0x3b, 0x02, 0x14, 0x50),
    powerOn: () => void log.push('on'),
    powerOff: () => void log.push('off'),
    reset: () => void log.push('reset'),
    process(apdu) {
      log.push(`apdu ${Buffer.from(apdu).toString('hex')}`);
      if (apdu[1] === 0xff) throw new Error('bug');
      if (apdu[1] === 0xfe) return new Uint8Array(70000);
      if (apdu[1] === 0xfd) return undefined as unknown as Uint8Array;
      return Uint8Array.from([...apdu.subarray(4), 0x90, 0x00]);
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const vpcd = new FakeVpcd();
  const port = await vpcd.listen();
  cleanups.push(() => vpcd.close());
  const card = recordingCard();
  const logs: string[] = [];
  const conn = await connectVpcd(card, { port, log: (m) => logs.push(m) });
  cleanups.push(() => conn.close());
  await new Promise((r) => setTimeout(r, 20));
  return { vpcd, card, conn, logs };
}

describe('connectVpcd', () => {
  it('answers control codes and APDUs in order', async () => {
    const { vpcd, card } = await setup();
    vpcd.send([0x01]);
    vpcd.send([0x04]);
    expect((await vpcd.next()).toString('hex')).toBe('3b021450');
    vpcd.send([0x00, 0xa4, 0x04, 0x00, 0x02, 0xaa, 0xbb], true);
    expect((await vpcd.next()).toString('hex')).toBe('02aabb9000');
    vpcd.send([0x02]);
    vpcd.send([0x00]);
    vpcd.send([0x09]); // unknown control byte: ignored
    vpcd.send([0x00, 0xb0, 0x00, 0x00]);
    expect((await vpcd.next()).toString('hex')).toBe('9000');
    expect(card.log).toEqual(['on', 'apdu 00a4040002aabb', 'reset', 'off', 'apdu 00b00000']);
  });

  it('handles an extended APDU of 3 KB', async () => {
    const { vpcd } = await setup();
    const data = Buffer.alloc(3000, 0x5a);
    vpcd.send(Buffer.concat([Buffer.from([0x00, 0x10, 0, 0, 0, 3000 >> 8, 3000 & 0xff]), data]));
    const r = await vpcd.next();
    expect(r.length).toBe(3 + 3000 + 2);
    expect(r.subarray(-2).toString('hex')).toBe('9000');
  });

  it('answers 6F00 when the card throws or its answer cannot be framed', async () => {
    const { vpcd, logs } = await setup();
    vpcd.send([0x00, 0xff, 0, 0]);
    expect((await vpcd.next()).toString('hex')).toBe('6f00');
    vpcd.send([0x00, 0xfe, 0, 0]);
    expect((await vpcd.next()).toString('hex')).toBe('6f00');
    vpcd.send([0x00, 0xfd, 0, 0]);
    expect((await vpcd.next()).toString('hex')).toBe('6f00');
    expect(logs.some((l) => l.includes('card threw'))).toBe(true);
    expect(logs.some((l) => l.includes('cannot be framed'))).toBe(true);
    expect(logs.join('\n')).not.toMatch(/00ff0000|00fe0000/); // no APDU contents in logs
  });

  it('survives a card that throws on a control code', async () => {
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    cleanups.push(() => vpcd.close());
    const logs: string[] = [];
    const broken: VirtualCard = {
      ...recordingCard(),
      atr: () => {
        throw new Error('no ATR');
      },
    };
    const conn = await connectVpcd(broken, { port, log: (m) => logs.push(m) });
    cleanups.push(() => conn.close());
    await new Promise((r) => setTimeout(r, 20));
    vpcd.send([0x04]);
    vpcd.send([0x00, 0xb0, 0, 0]);
    expect((await vpcd.next()).toString('hex')).toBe('9000');
    expect(logs.some((l) => l.includes('card failed: no ATR'))).toBe(true);
  });

  it('closes with a FIN and resolves closed', async () => {
    const { vpcd, conn } = await setup();
    await conn.close();
    await vpcd.ended;
    await conn.closed;
    await conn.close(); // idempotent
  });

  it('resolves closed when vpcd goes away', async () => {
    const { vpcd, conn } = await setup();
    vpcd.socket!.destroy();
    await conn.closed;
  });

  it('abort() drops the connection without answering', async () => {
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    cleanups.push(() => vpcd.close());
    const holder: { conn?: VpcdConnection } = {};
    const card = recordingCard();
    const yanking: VirtualCard = {
      ...card,
      process: () => (holder.conn!.abort(), Uint8Array.of(0x90, 0)),
    };
    const conn = await connectVpcd(yanking, { port });
    holder.conn = conn;
    await new Promise((r) => setTimeout(r, 20));
    const gotData: Buffer[] = [];
    vpcd.socket!.on('data', (d: Buffer) => gotData.push(d));
    const closed = new Promise((r) => vpcd.socket!.on('close', r));
    vpcd.send([0x00, 0xee, 0, 0]);
    await closed;
    await conn.closed;
    expect(gotData).toEqual([]);
  });

  it('retries until vpcd listens, and gives up after the deadline', async () => {
    const probe = new FakeVpcd();
    const port = await probe.listen();
    await probe.close();
    const card = recordingCard();
    const pending = connectVpcd(card, { port, retryIntervalMs: 20, connectTimeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    const late = new FakeVpcd();
    await late.listen(port);
    cleanups.push(() => late.close());
    const conn = await pending;
    cleanups.push(() => conn.close());
    const t0 = Date.now();
    await expect(
      connectVpcd(card, { port: 1, connectTimeoutMs: 150, retryIntervalMs: 20 }),
    ).rejects.toThrow(/not reachable/);
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(connectVpcd(card, { port: 0 })).rejects.toThrow(RangeError);
  });
});
