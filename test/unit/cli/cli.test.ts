import { describe, expect, it } from 'vitest';
import { CardTransportError, type CardTransport } from '../../../core/card/transport';
import type { Pcsc, PcscCard, PcscEvent } from '../../../core/pcsc/pcsc-adapter';
import { main } from '../../../cli/main';
import type { CliDeps, CliIo } from '../../../cli/context';
import { generateTestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';

type Captured = CliIo & { stdout: string; stderr: string };
function capture(): Captured {
  const c = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (c.stdout += t),
    err: (t: string) => void (c.stderr += t),
  };
  return c;
}

const ca = generateTestCa();
const emulatedCard = (serial: number): CardTransport =>
  createInProcessTransport(new EmulatedSmartCardHsm(createDeviceState(ca, { serial })));

/** A PC/SC fake: readers with or without a card; connect gives an emulated SmartCard-HSM. */
function fakePcsc(readers: Record<string, boolean>, log: string[] = []): Pcsc {
  return {
    listReaders: async () => Object.keys(readers),
    watch: (listener: (e: PcscEvent) => void) => {
      for (const [reader, card] of Object.entries(readers)) {
        listener({ type: 'reader-added', reader });
        if (card) listener({ type: 'card-inserted', reader, atr: Uint8Array.of(0x3b, 0x80) });
      }
      return () => undefined;
    },
    connect: async (reader: string) => {
      log.push(`connect ${reader}`);
      if (!readers[reader]) throw new CardTransportError('no-card', `no card in "${reader}"`);
      return Object.assign(emulatedCard(7), {
        reader,
        features: async () => new Map(),
      }) as PcscCard;
    },
    close: async () => void log.push('close'),
  };
}

function deps(over: Partial<CliDeps>): Partial<CliDeps> {
  return { settleMs: 0, now: () => new Date(), ...over };
}

describe('custodian readers', () => {
  it('lists readers and card presence, human and JSON', async () => {
    const io = capture();
    const pcsc = deps({ openPcsc: async () => fakePcsc({ 'Reader A': true, 'Reader B': false }) });
    expect(await main(['readers'], pcsc, io)).toBe(0);
    expect(io.stdout).toBe('Reader A\tcard present (ATR 3b80)\nReader B\tno card\n');
    const json = capture();
    expect(await main(['readers', '--json'], pcsc, json)).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      readers: [
        { name: 'Reader A', card: true, atr: '3b80' },
        { name: 'Reader B', card: false },
      ],
    });
  });

  it('says how to fix a missing pcscd or native module, exit 2', async () => {
    for (const [code, hint] of [
      ['no-service', /pcscd/],
      ['no-native-module', /libpcsclite-dev/],
    ] as const) {
      const io = capture();
      const failing = deps({
        openPcsc: async () => {
          throw new CardTransportError(code, 'PC/SC unavailable');
        },
      });
      expect(await main(['readers'], failing, io)).toBe(2);
      expect(io.stderr).toMatch(hint);
      expect(io.stderr.trim().split('\n')).toHaveLength(1);
      expect(io.stdout).toBe('');
    }
  });
});

describe('custodian card info over PC/SC', () => {
  it('uses the only reader holding a card', async () => {
    const log: string[] = [];
    const io = capture();
    const code = await main(
      ['card', 'info', '--json'],
      deps({ openPcsc: async () => fakePcsc({ Empty: false, Full: true }, log) }),
      io,
    );
    expect(code).toBe(0);
    expect(log).toEqual(['connect Full', 'close']);
    const report = JSON.parse(io.stdout);
    expect(report.source).toEqual({ type: 'pcsc', reader: 'Full' });
    expect(report.applet.version).toBe('3.6');
    expect(report.initialized).toBe(false);
    expect(report.genuine).toMatchObject({ genuine: false, code: 'unknown-root' });
  });

  it('asks for --reader when several readers hold a card, and refuses when none does', async () => {
    const io = capture();
    expect(
      await main(
        ['card', 'info'],
        deps({ openPcsc: async () => fakePcsc({ A: true, B: true }) }),
        io,
      ),
    ).toBe(2);
    expect(io.stderr).toMatch(/--reader/);
    const none = capture();
    expect(
      await main(['card', 'info'], deps({ openPcsc: async () => fakePcsc({ A: false }) }), none),
    ).toBe(2);
    expect(none.stderr).toMatch(/no card in any reader/);
    const log: string[] = [];
    const named = capture();
    const code = await main(
      ['card', 'info', '--reader', 'B'],
      deps({ openPcsc: async () => fakePcsc({ A: true, B: true }, log) }),
      named,
    );
    expect(code).toBe(0);
    expect(log[0]).toBe('connect B');
    const unknown = capture();
    expect(
      await main(
        ['card', 'info', '--reader', 'C'],
        deps({ openPcsc: async () => fakePcsc({ A: true }) }),
        unknown,
      ),
    ).toBe(2);
    expect(unknown.stderr).toMatch(/no reader named "C"/);
  });
});

describe('custodian card info on an emulated device', () => {
  const openEmulator = async () => emulatedCard(9);

  it('is genuine with the test root as trust anchor, and says why not without it', async () => {
    const readFile = async (p: string) => {
      if (p === 'root.cvc') return ca.root.cvc;
      if (p === 'root.hex')
        return new TextEncoder().encode(Buffer.from(ca.root.cvc).toString('hex') + '\n');
      throw new Error('ENOENT');
    };
    const withAnchor = capture();
    expect(
      await main(
        ['card', 'info', '--emulator', 'x.json', '--trust-anchor', 'root.cvc'],
        deps({ openEmulator, readFile }),
        withAnchor,
      ),
    ).toBe(0);
    expect(withAnchor.stdout).toMatch(
      /Genuine:\s+yes — chain \/UTCUSTSRCA\/UTCUSTDICA\/\S+ to trust anchor UTCUSTSRCA00001 \(root\.cvc\)/,
    );
    expect(withAnchor.stdout).toMatch(/Device id:\s+UTEMU\d+00009/);
    expect(withAnchor.stdout).toMatch(
      /TEST ROOT:\s+!! UTCUSTSRCA00001 is a configured root, NOT CardContact's production root/,
    );
    const hexAnchor = capture();
    expect(
      await main(
        ['card', 'info', '--emulator', 'x.json', '--trust-anchor', 'root.hex', '--json'],
        deps({ openEmulator, readFile }),
        hexAnchor,
      ),
    ).toBe(0);
    expect(JSON.parse(hexAnchor.stdout).genuine).toMatchObject({
      genuine: true,
      anchorSource: 'configured',
    });

    const without = capture();
    expect(
      await main(
        ['card', 'info', '--emulator', 'x.json'],
        deps({ openEmulator, readFile }),
        without,
      ),
    ).toBe(0);
    expect(without.stdout).toMatch(
      /Genuine:\s+NOT GENUINE — DICA UTCUSTDICA00001 is issued by UTCUSTSRCA00001, which is not a trusted root/,
    );

    const missing = capture();
    expect(
      await main(
        ['card', 'info', '--emulator', 'x.json', '--trust-anchor', 'nope'],
        deps({ openEmulator, readFile }),
        missing,
      ),
    ).toBe(2);
    expect(missing.stderr).toMatch(/cannot read trust anchor nope/);
    const notCvc = capture();
    const junk = async () => Uint8Array.of(1, 2, 3);
    expect(
      await main(
        ['card', 'info', '--emulator', 'x.json', '--trust-anchor', 'junk'],
        deps({ openEmulator, readFile: junk }),
        notCvc,
      ),
    ).toBe(2);
    expect(notCvc.stderr).toMatch(/trust anchor junk/);
  });

  it('refuses --emulator when the launcher provides no emulator, and conflicting options', async () => {
    const io = capture();
    expect(await main(['card', 'info', '--emulator', 'x.json'], deps({}), io)).toBe(2);
    expect(io.stderr).toMatch(/--emulator is not available/);
    const both = capture();
    expect(
      await main(
        ['card', 'info', '--emulator', 'x', '--reader', 'y'],
        deps({ openEmulator }),
        both,
      ),
    ).toBe(2);
  });

  it('reports usage errors with exit 2', async () => {
    const io = capture();
    expect(await main(['card', 'info', '--bogus'], deps({}), io)).toBe(2);
    expect(io.stderr).toMatch(/unknown option/);
    expect(await main(['frobnicate'], deps({}), capture())).toBe(2);
    expect(await main(['--help'], deps({}), capture())).toBe(0);
  });

  it('reports a card that is not a SmartCard-HSM', async () => {
    const notHsm: CardTransport = {
      atr: Uint8Array.of(0x3b, 0x00),
      transmit: async () => Uint8Array.of(0x6a, 0x82),
      reset: async () => Uint8Array.of(0x3b, 0x00),
      close: async () => undefined,
      transaction: (fn) => fn(),
    };
    const io = capture();
    expect(
      await main(
        ['card', 'info', '--emulator', 'x'],
        deps({ openEmulator: async () => notHsm }),
        io,
      ),
    ).toBe(2);
    expect(io.stderr).toMatch(/not a SmartCard-HSM/);
  });
});
