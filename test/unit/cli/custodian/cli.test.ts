import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import {
  registerCustodianCommands,
  type CustodianCommandDeps,
} from '../../../../cli/custodian/index';
import { defaultDeps } from '../../../../cli/context';
import { reportError } from '../../../../cli/errors';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { createDeviceState, loadState, saveState } from '../../../../emulator/card/state-file';
import { openEmulatorStateFile } from '../../../../emulator/state-file-card';
import { asciiBytes, toHex } from '../../../../shared/codec/bytes';
import { parsePkaFile } from '../../../../shared/pka/pka-file';
import {
  fakeServer,
  makeOffer,
  PIN,
  SO_PIN,
  targetDevice,
  testCa,
} from '../../../integration/custodian/harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function openEmulator(file: string) {
  return Promise.resolve(openEmulatorStateFile(file));
}

/** A workspace: custodian home, an initialized emulated card file, the test root CVC. */
async function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'cust-cli-'));
  const ca = testCa();
  const cardFile = join(dir, 'card.json');
  saveState(cardFile, createDeviceState(ca, { serial: 555 }));
  const t = await openEmulator(cardFile);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3 });
  await t.close('reset');
  const root = join(dir, 'root.cvc');
  writeFileSync(root, ca.root.cvc);
  return { dir, cardFile, root, home: join(dir, 'home') };
}

function pinFd(dir: string, pin: string): number {
  const p = join(dir, `pin-${Math.random()}`);
  writeFileSync(p, `${pin}\n`, { mode: 0o600 });
  const fd = openSync(p, 'r');
  cleanups.push(() => closeSync(fd));
  return fd;
}

async function run(argv: string[], home: string, input = new PassThrough()) {
  let out = '';
  let err = '';
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  const deps: CustodianCommandDeps = {
    ...defaultDeps(),
    openEmulator,
    io,
    env: { CUSTODIAN_HOME: home },
    input,
  };
  const program = new Command('custodian')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerCustodianCommands(program, deps);
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    code = reportError(e, io);
  }
  return { code, out, err };
}

describe('custodian CLI', () => {
  it('key create → key export → enroll → watch (approve) → audit verify', async () => {
    const w = await workspace();
    const created = await run(
      [
        'key',
        'create',
        '--label',
        'alice',
        '--emulator',
        w.cardFile,
        '--pin-fd',
        String(pinFd(w.dir, PIN)),
      ],
      w.home,
    );
    expect(created.err).toBe('');
    expect(created.code).toBe(0);
    const m = /created PKA key (\d+): CHR (\S+), brainpoolP256r1/.exec(created.out);
    expect(m).not.toBeNull();
    const keyId = Number(m![1]);
    const chr = m![2]!;

    const pkaPath = join(w.dir, 'me.pka');
    const exported = await run(
      ['key', 'export', '--key-id', String(keyId), '--out', pkaPath, '--emulator', w.cardFile],
      w.home,
    );
    expect(exported.code).toBe(0);
    const pka = parsePkaFile(new Uint8Array(readFileSync(pkaPath)));
    expect(pka.ok && pka.value.request.inner.body.chr).toBe(chr);
    // Refuses to overwrite without --force.
    const again = await run(
      ['key', 'export', '--key-id', String(keyId), '--out', pkaPath, '--emulator', w.cardFile],
      w.home,
    );
    expect(again.code).toBe(2);

    const server = await fakeServer();
    cleanups.push(() => server.close());
    const target = targetDevice();
    const offer = makeOffer(target, { keyId, chr });
    const credential = 'S'.repeat(43);
    server.setOnHello((ws, hello) => {
      const enrolling = hello.type === 'hello' && hello.auth.kind === 'enroll';
      server.send(ws, {
        v: 1,
        type: 'welcome',
        custodianId: 'cust-9',
        serverTime: '2026-11-27T00:00:00Z',
        heartbeatSeconds: 15,
        ...(enrolling ? { credential } : {}),
      });
      if (!enrolling) server.send(ws, offer);
    });
    const enrolled = await run(
      [
        'enroll',
        '--server',
        server.url,
        '--token',
        'T'.repeat(30),
        '--emulator',
        w.cardFile,
        '--trust-anchor',
        w.root,
      ],
      w.home,
    );
    expect(enrolled.err).toBe('');
    expect(enrolled.code).toBe(0);
    const hello = server.messages.find((x) => x.type === 'hello');
    expect(hello?.type === 'hello' && hello.auth.kind === 'enroll' && hello.auth.pka).toBe(
      toHex(new Uint8Array(readFileSync(pkaPath))),
    );
    expect(statSync(join(w.home, 'credential')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(w.home, 'credential'), 'utf8').trim()).toBe(credential);

    const input = new PassThrough();
    input.write('a\n');
    const watched = await run(
      ['watch', '--pin-fd', String(pinFd(w.dir, PIN)), '--once'],
      w.home,
      input,
    );
    expect(watched.code).toBe(0);
    expect(watched.out).toContain(offer.target.deviceId);
    expect(watched.out).toContain('TEST ANCHOR');
    expect(watched.out).toContain('2 of 3');
    expect(watched.out).toContain('approved');
    const decision = await server.next((x) => x.type === 'decision');
    expect(decision.type === 'decision' && decision.decision.kind).toBe('approve');
    const session = server.messages.filter((x) => x.type === 'hello').at(-1);
    expect(session?.type === 'hello' && session.auth).toEqual({
      kind: 'session',
      custodianId: 'cust-9',
      credential,
    });
    for (const f of server.frames) expect(f).not.toContain(PIN);

    const verified = await run(['audit', 'verify'], w.home);
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/entries, chain intact/);
    const auditPath = join(w.home, 'audit.jsonl');
    const text = readFileSync(auditPath, 'utf8');
    expect(text).not.toContain(PIN);
    writeFileSync(auditPath, text.replace('"approval"', '"decline"'));
    const tampered = await run(['audit', 'verify'], w.home);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toMatch(/FAILED verification/);
  });

  it('refuses plain ws to a remote host and a bad token', async () => {
    const w = await workspace();
    const remote = await run(
      [
        'enroll',
        '--server',
        'ws://example.org/x',
        '--token',
        'T'.repeat(30),
        '--pka',
        w.root,
        '--key-id',
        '1',
      ],
      w.home,
    );
    expect(remote.code).toBe(2);
    expect(remote.err).toMatch(/loopback/);
    const badToken = await run(
      ['enroll', '--server', 'ws://127.0.0.1:1/x', '--token', 'short', '--key-id', '1'],
      w.home,
    );
    expect(badToken.code).toBe(2);
  });

  it('key create reports a wrong PIN with the tries left and does not retry', async () => {
    const w = await workspace();
    const r = await run(
      ['key', 'create', '--emulator', w.cardFile, '--pin-fd', String(pinFd(w.dir, '000000'))],
      w.home,
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/2 tries left/);
    expect(loadState(w.cardFile).userPin?.retries).toBe(2);
    expect(loadState(w.cardFile).keys.size).toBe(0);
  });

  it('watch without enrollment is a usage error', async () => {
    const w = await workspace();
    const r = await run(['watch', '--once'], w.home);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/enroll/);
  });
});

describe('card opener (PC/SC)', () => {
  it('connects exclusively to the named reader and releases PC/SC on close', async () => {
    const { cardOpener } = await import('../../../../cli/custodian/deps');
    const calls: string[] = [];
    const fakeCard = {
      reader: 'R1',
      atr: Uint8Array.of(0x3b),
      transmit: async () => Uint8Array.of(0x90, 0x00),
      reset: async () => Uint8Array.of(0x3b),
      transaction: <T>(fn: () => Promise<T>) => fn(),
      features: async () => new Map<number, number>(),
      close: async (d?: string) => void calls.push(`card-close:${d}`),
    };
    const pcsc = {
      connect: async (reader: string, o: { share: string }) => {
        calls.push(`connect:${reader}:${o.share}`);
        return fakeCard;
      },
      close: async () => void calls.push('pcsc-close'),
    };
    const deps = { ...defaultDeps(), openPcsc: async () => pcsc as never };
    const open = cardOpener({ reader: 'R1' }, deps);
    const t = await open();
    expect(Array.from(await t.transmit(Uint8Array.of(0, 0x20, 0, 0x81)))).toEqual([0x90, 0]);
    await t.close();
    expect(calls).toEqual(['connect:R1:exclusive', 'card-close:reset', 'pcsc-close']);
    expect(() => cardOpener({}, deps)).toThrow(/--reader/);
    expect(() => cardOpener({ reader: 'a', emulator: 'b' }, deps)).toThrow(/either/);
  });
});
