/**
 * Reading answers and the PIN on the custodian's machine: a line reader for approve/decline
 * answers, a PIN prompt without echo on a TTY, and `--pin-fd N` for automation. PIN bytes are
 * collected in a Uint8Array (never a string) and handed to the engine, which wipes them.
 * @module
 */
import { readSync } from 'node:fs';
import type { CliIo } from '../context';

/** Longest PIN line accepted from a file descriptor (the PIN itself is at most 16). */
const MAX_PIN_LINE = 64;

/**
 * Reads one line from file descriptor `fd` byte by byte (so nothing beyond the line is
 * consumed) and returns its bytes without the line end; undefined at end of input.
 */
export function readPinFromFd(fd: number): Uint8Array | undefined {
  const buf = new Uint8Array(MAX_PIN_LINE + 1);
  const one = new Uint8Array(1);
  let n = 0;
  for (;;) {
    let got: number;
    try {
      got = readSync(fd, one, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (got === 0) break;
    if (one[0] === 0x0a) break;
    if (n >= MAX_PIN_LINE) {
      buf.fill(0);
      throw new Error(`the PIN line on fd ${fd} is too long`);
    }
    buf[n++] = one[0]!;
  }
  one[0] = 0;
  if (n > 0 && buf[n - 1] === 0x0d) n -= 1;
  if (n === 0) {
    buf.fill(0);
    return undefined;
  }
  const pin = buf.slice(0, n);
  buf.fill(0);
  return pin;
}

/** A queue of input lines (answers), fed from a stream. */
export type LineReader = {
  /** Resolves with the next line, or undefined when the input ended. */
  next(): Promise<string | undefined>;
  /** Reads a PIN without echo (TTY raw mode); undefined when cancelled (Ctrl-C / Ctrl-D / end). */
  secret(prompt: string): Promise<Uint8Array | undefined>;
  close(): void;
};

type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** Creates a line reader over `input`; prompts go to `io.err` so stdout stays clean. */
export function createLineReader(input: Input, io: CliIo): LineReader {
  let buffered = '';
  let ended = false;
  const lines: string[] = [];
  let waiter: ((l: string | undefined) => void) | undefined;
  let secretSink: ((chunk: Buffer) => void) | undefined;

  const onData = (chunk: Buffer | string): void => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (secretSink) return secretSink(b);
    buffered += b.toString('utf8');
    let i: number;
    while ((i = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, i).replace(/\r$/, ''));
      buffered = buffered.slice(i + 1);
    }
    flush();
  };
  const flush = (): void => {
    if (!waiter) return;
    if (lines.length > 0) {
      const w = waiter;
      waiter = undefined;
      w(lines.shift());
    } else if (ended) {
      const w = waiter;
      waiter = undefined;
      w(undefined);
    }
  };
  const onEnd = (): void => {
    ended = true;
    if (buffered.length > 0) lines.push(buffered);
    buffered = '';
    flush();
  };
  input.on('data', onData);
  input.on('end', onEnd);

  return {
    next() {
      return new Promise((resolve) => {
        waiter = resolve;
        flush();
      });
    },
    secret(prompt) {
      if (!input.isTTY || !input.setRawMode) {
        io.err(
          'custodian: the PIN prompt needs a terminal; use --pin-file PATH (or --pin-fd N) for automation\n',
        );
        return Promise.resolve(undefined);
      }
      io.err(prompt);
      const setRaw = input.setRawMode.bind(input);
      setRaw(true);
      const pin = new Uint8Array(64);
      let n = 0;
      return new Promise((resolve) => {
        const done = (ok: boolean): void => {
          secretSink = undefined;
          setRaw(false);
          io.err('\n');
          const out = ok && n > 0 ? pin.slice(0, n) : undefined;
          pin.fill(0);
          resolve(out);
        };
        secretSink = (b) => {
          for (const c of b) {
            if (c === 0x0d || c === 0x0a) return done(true);
            if (c === 0x03 || c === 0x04) return done(false);
            if (c === 0x7f || c === 0x08) n = Math.max(0, n - 1);
            else if (c >= 0x20 && c < 0x7f && n < pin.length) pin[n++] = c;
          }
          b.fill(0);
        };
      });
    },
    close() {
      input.off('data', onData);
      input.off('end', onEnd);
      if ('pause' in input && typeof input.pause === 'function') input.pause();
    },
  };
}
