/**
 * A scriptable stand-in for the pcsclite module with the same shape as v1.0.1: the factory
 * returns a context that starts its watcher on the next tick and emits `reader` objects.
 */
import { EventEmitter } from 'node:events';
import type { PcscliteReader } from '../../../../core/pcsc/pcsclite-types';

type Cb<T> = (err: Error | null | undefined, result?: T) => void;
/** What a scripted call does: answer, fail, or never return. */
export type Outcome<T> = { ok: T } | { error: string } | 'hang';

export const pcscError = (fn: string, text: string, code: number) =>
  `${fn} error: ${text}.(0x${code.toString(16).padStart(8, '0')})`;

export class FakeReader extends EventEmitter implements PcscliteReader {
  readonly SCARD_SHARE_SHARED = 2;
  readonly SCARD_SHARE_EXCLUSIVE = 1;
  readonly SCARD_PROTOCOL_T0 = 1;
  readonly SCARD_PROTOCOL_T1 = 2;
  readonly SCARD_STATE_PRESENT = 0x20;
  readonly SCARD_LEAVE_CARD = 0;
  readonly SCARD_RESET_CARD = 1;
  readonly SCARD_UNPOWER_CARD = 2;
  connected = false;
  closed = false;
  readonly calls: string[] = [];
  onConnect: (shareMode: number) => Outcome<number> = () => ({ ok: 2 });
  onTransmit: (data: Buffer) => Outcome<Buffer> = (d) => ({
    ok: Buffer.concat([d, Buffer.from([0x90, 0])]),
  });
  onControl: (code: number, data: Buffer) => Outcome<Buffer> = () => ({
    error: pcscError('SCardControl', 'Feature not supported', 0x8010001f),
  });
  onDisconnect: (disposition: number) => Outcome<void> = () => ({ ok: undefined });

  constructor(readonly name: string) {
    super();
  }

  SCARD_CTL_CODE(code: number): number {
    return 0x42000000 + code;
  }

  private run<T>(outcome: Outcome<T>, cb: Cb<T>, after?: () => void): void {
    if (outcome === 'hang') return;
    setImmediate(() => {
      if ('error' in outcome) cb(new Error(outcome.error));
      else {
        after?.();
        cb(null, outcome.ok);
      }
    });
  }

  connect(options: { share_mode: number; protocol?: number }, cb: Cb<number>): void {
    this.calls.push(`connect ${options.share_mode}`);
    this.run(this.onConnect(options.share_mode), cb, () => (this.connected = true));
  }
  disconnect(disposition: number, cb: Cb<void>): void {
    this.calls.push(`disconnect ${disposition}`);
    this.run(this.onDisconnect(disposition), cb, () => (this.connected = false));
  }
  transmit(data: Buffer, _resLen: number, _protocol: number, cb: Cb<Buffer>): void {
    this.calls.push(`transmit ${data.toString('hex')}`);
    this.run(this.onTransmit(data), cb);
  }
  control(data: Buffer, code: number, _resLen: number, cb: Cb<Buffer>): void {
    this.calls.push(`control ${code.toString(16)}`);
    this.run(this.onControl(code, data), cb);
  }
  close(): void {
    this.closed = true;
  }
  /** Simulates a status change from the reader's watcher thread. */
  status(present: boolean, atr?: Uint8Array, count = 0): void {
    const state = ((count & 0xffff) << 16) | (present ? 0x22 : 0x12);
    this.emit('status', atr === undefined ? { state } : { state, atr: Buffer.from(atr) });
  }
}

export class FakeContext extends EventEmitter {
  closed = false;
  readonly readers = new Map<string, FakeReader>();
  private cb: ((err: Error | null | undefined, names?: Buffer) => void) | undefined;

  start(cb: (err: Error | null | undefined, names?: Buffer) => void): void {
    this.cb = cb;
  }
  close(): void {
    this.closed = true;
  }
  /** Delivers a new reader list like the module's watcher thread does. */
  setReaders(names: string[]): void {
    const multi = Buffer.from(names.map((n) => `${n}\0`).join('') + '\0');
    this.cb?.(null, names.length === 0 ? Buffer.alloc(0) : multi);
  }
}

/** A fake module: `loader` for openPcsc, plus handles to drive it. */
export function fakePcsclite(initialReaders: string[] = [], options: { silent?: boolean } = {}) {
  const ctx = new FakeContext();
  const factory = () => {
    // Like pcsclite: start on the next tick; its callback emits `reader` for new names.
    process.nextTick(() =>
      ctx.start((err, names) => {
        if (err) {
          ctx.emit('error', err);
          return;
        }
        const list = (names ?? Buffer.alloc(0)).toString().split('\0').filter(Boolean);
        for (const n of list) {
          if (ctx.readers.has(n)) continue;
          const r = new FakeReader(n);
          ctx.readers.set(n, r);
          ctx.emit('reader', r);
        }
        for (const [n, r] of ctx.readers) {
          if (!list.includes(n)) {
            ctx.readers.delete(n);
            r.emit('end');
          }
        }
      }),
    );
    // silent: pcscd never delivers a first reader list.
    if (options.silent !== true) setImmediate(() => ctx.setReaders(initialReaders));
    return ctx;
  };
  return {
    ctx,
    loader: async () => ({ default: factory }),
    reader: (n: string) => ctx.readers.get(n)!,
  };
}
