import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadState } from '../../../emulator/card/state-file';
import { parseVpcdAddress, runCli, type CliIo } from '../../../emulator/cli/program';
import { SC_HSM_AID, SC_HSM_ATR } from '../../../shared/sc-hsm/constants';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'emu-cli-'));
  dirs.push(d);
  return d;
};

type Captured = CliIo & { out: string; err: string; stop(): void };
function io(): Captured {
  let stop: (s: string) => void = () => undefined;
  const stopped = new Promise<string>((r) => (stop = r));
  const c: Captured = {
    out: '',
    err: '',
    stdout: (t) => void (c.out += t),
    stderr: (t) => void (c.err += t),
    stopSignal: () => stopped,
    stop: () => stop('SIGTERM'),
  };
  return c;
}

describe('sc-hsm-emulator CLI', () => {
  it('creates a device and the CA, refuses to overwrite without --force, shows info', async () => {
    const dir = tempDir();
    const state = join(dir, 'dev.json');
    const ca = join(dir, 'ca');
    const a = io();
    expect(await runCli(['create', '--state', state, '--ca', ca, '--serial', '42'], a)).toBe(0);
    expect(a.out).toMatch(/UTEMU\d{5}00042/);
    const b = io();
    expect(await runCli(['create', '--state', state, '--ca', ca], b)).toBe(2);
    expect(b.err).toMatch(/--force/);
    expect(await runCli(['create', '--state', state, '--ca', ca, '--force'], io())).toBe(0);
    const c = io();
    expect(await runCli(['info', '--state', state, '--json'], c)).toBe(0);
    const info = JSON.parse(c.out) as { initialized: boolean; deviceChr: string };
    expect(info.initialized).toBe(false);
    expect(info.deviceChr).toMatch(/^UTEMU\d{10}$/);
    const d = io();
    expect(await runCli(['info', '--state', state], d)).toBe(0);
    expect(d.out).toContain('factory fresh');
  });

  it('exits 2 with one clear line for user errors', async () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[]');
    const cases: string[][] = [
      [],
      ['nonsense'],
      ['info'],
      ['info', '--state', join(dir, 'missing.json')],
      ['info', '--state', bad],
      ['create', '--state', join(dir, 'x.json'), '--ca', join(dir, 'ca'), '--serial', '123456'],
      ['serve', '--state', bad, '--vpcd', 'localhost'],
      ['serve', '--state', bad, '--vpcd', '127.0.0.1:99999'],
      ['serve', '--state', bad, '--connect-timeout', 'soon'],
    ];
    for (const args of cases) {
      const c = io();
      expect(await runCli(args, c), args.join(' ')).toBe(2);
      expect(c.err).not.toMatch(/\n\s+at /); // no stack trace
      expect(c.err.length).toBeGreaterThan(0);
    }
    expect(() => parseVpcdAddress('a:b')).toThrow(/host:port/);
    expect(parseVpcdAddress('127.0.0.1:35963')).toEqual({ host: '127.0.0.1', port: 35963 });
  });

  it('serves the card to vpcd, persists changes and stops cleanly on a signal', async () => {
    const dir = tempDir();
    const state = join(dir, 'dev.json');
    expect(await runCli(['create', '--state', state, '--ca', join(dir, 'ca')], io())).toBe(0);
    // A minimal vpcd: 2-byte length framing, 1-byte control codes, APDUs otherwise.
    let client: Socket | undefined;
    const server: Server = createServer((s) => (client = s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const c = io();
    const served = runCli(['serve', '--state', state, '--vpcd', `127.0.0.1:${port}`], c);
    while (!client) await new Promise((r) => setTimeout(r, 10));
    const sock = client;
    let buf = new Uint8Array(0);
    const frames: Uint8Array[] = [];
    sock.on('data', (d: Buffer) => {
      buf = Uint8Array.from([...buf, ...d]);
      while (buf.length >= 2 && buf.length >= 2 + ((buf[0]! << 8) | buf[1]!)) {
        const n = (buf[0]! << 8) | buf[1]!;
        frames.push(buf.slice(2, 2 + n));
        buf = buf.slice(2 + n);
      }
    });
    const exchange = async (payload: number[]): Promise<Uint8Array> => {
      const want = frames.length + 1;
      sock.write(Uint8Array.of(payload.length >> 8, payload.length & 0xff, ...payload));
      while (frames.length < want) await new Promise((r) => setTimeout(r, 5));
      return frames[want - 1]!;
    };
    sock.write(Uint8Array.of(0, 1, 0x01)); // power on
    expect([...(await exchange([0x04]))]).toEqual([...SC_HSM_ATR]);
    expect([...(await exchange([0x00, 0xa4, 0x04, 0x0c, 0x0b, ...SC_HSM_AID]))]).toEqual([
      0x90, 0x00,
    ]);
    const init = [
      0x81,
      0x06,
      ...new TextEncoder().encode('648219'),
      0x82,
      0x08,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ];
    expect([...(await exchange([0x80, 0x50, 0, 0, init.length, ...init]))]).toEqual([0x90, 0x00]);
    expect(loadState(state).initialized).toBe(true);
    // A second server on the same state file is refused while this one runs.
    const second = io();
    expect(await runCli(['serve', '--state', state, '--vpcd', `127.0.0.1:${port}`], second)).toBe(
      2,
    );
    expect(second.err).toMatch(/in use/);
    const ended = new Promise<void>((r) => sock.on('end', () => r()));
    c.stop();
    expect(await served).toBe(0);
    await ended;
    sock.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    // The lock is released: serving again is possible (vpcd gone → connection error, not a lock error).
    const again = io();
    const code = await runCli(
      ['serve', '--state', state, '--vpcd', `127.0.0.1:${port}`, '--connect-timeout', '300'],
      again,
    );
    expect(again.err).not.toMatch(/in use/);
    expect(code).toBe(1);
  }, 30_000);

  it('stops promptly on a signal while vpcd is not reachable yet', async () => {
    const dir = tempDir();
    const state = join(dir, 'dev.json');
    expect(await runCli(['create', '--state', state, '--ca', join(dir, 'ca')], io())).toBe(0);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r())); // nothing listens there now
    const c = io();
    const started = Date.now();
    const served = runCli(
      ['serve', '--state', state, '--vpcd', `127.0.0.1:${port}`, '--connect-timeout', '20000'],
      c,
    );
    setTimeout(() => c.stop(), 200);
    expect(await served).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(c.err).toMatch(/stopped before vpcd answered/);
  });
});
