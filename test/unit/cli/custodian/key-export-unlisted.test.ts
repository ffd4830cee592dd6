import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDeps } from '../../../../cli/context';
import {
  registerCustodianCommands,
  type CustodianCommandDeps,
} from '../../../../cli/custodian/index';
import { reportError } from '../../../../cli/errors';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import type { CardTransport } from '../../../../core/card/transport';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { createInProcessTransport } from '../../../../emulator/transport/in-process';
import { parsePkaFile } from '../../../../shared/pka/pka-file';
import { custodianCard } from '../../../integration/custodian/harness';

// An independent SmartCard-HSM implementation leaves CE<id> (the key's authenticated request)
// out of ENUMERATE OBJECTS although READ BINARY of it works. OpenSC reads CE<id> directly; so
// must `custodian key export` and the key listing behind it.

type Filter = (fid: number) => boolean;

/** The custodian card, with ENUMERATE OBJECTS answers filtered by `keep`. */
function filteredCard(card: Awaited<ReturnType<typeof custodianCard>>['card'], keep: Filter) {
  return async (): Promise<CardTransport> => {
    const inner = createInProcessTransport(card);
    return {
      get atr() {
        return inner.atr;
      },
      transmit: async (apdu) => {
        const resp = await inner.transmit(apdu);
        if (apdu[1] !== 0x58) return resp;
        const data = resp.subarray(0, resp.length - 2);
        const kept: number[] = [];
        for (let i = 0; i + 1 < data.length; i += 2) {
          const fid = (data[i]! << 8) | data[i + 1]!;
          if (keep(fid)) kept.push(data[i]!, data[i + 1]!);
        }
        return Uint8Array.from([...kept, ...resp.subarray(resp.length - 2)]);
      },
      transaction: (fn) => inner.transaction(fn),
      close: (d) => inner.close(d),
      reset: () => inner.reset(),
    };
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(argv: string[], openEmulator: () => Promise<CardTransport>) {
  let out = '';
  let err = '';
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  const dir = mkdtempSync(join(tmpdir(), 'cust-export-'));
  dirs.push(dir);
  const deps: CustodianCommandDeps = {
    ...defaultDeps(),
    openEmulator,
    io,
    env: { CUSTODIAN_HOME: join(dir, 'home') },
    input: new PassThrough(),
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
  return { code, out, err, dir };
}

const isCe = (fid: number) => fid >> 8 === 0xce;
const isPrkd = (fid: number) => fid >> 8 === 0xc4;

describe('key export when ENUMERATE OBJECTS omits objects', () => {
  it.each([
    ['CE<id> omitted', (fid: number) => !isCe(fid)],
    ['CE<id> and the PRKD omitted', (fid: number) => !isCe(fid) && !isPrkd(fid)],
  ])('%s: reads CE<id> directly and exports the .pka', async (_name, keep) => {
    const c = await custodianCard(141);
    const open = filteredCard(c.card, keep);
    const dir = mkdtempSync(join(tmpdir(), 'cust-export-out-'));
    dirs.push(dir);
    const out = join(dir, 'me.pka');
    const r = await run(
      ['key', 'export', '--key-id', String(c.key.keyId), '--out', out, '--emulator', 'x'],
      open,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const pka = parsePkaFile(new Uint8Array(readFileSync(out)));
    expect(pka.ok && pka.value.request.inner.body.chr).toBe(c.key.chr);

    // The listing behind `card info` sees the request too.
    const t = await open();
    const hsm = new SmartCardHsm(new ApduChannel(t));
    await hsm.select();
    const key = (await hsm.listKeys()).find((k) => k.id === c.key.keyId);
    await t.close();
    expect(key).toMatchObject({ hasRequest: true, chr: c.key.chr });
  });

  it('a key whose CE<id> really does not exist still reports no request', async () => {
    const c = await custodianCard(142);
    expect(c.card.state.files.delete(0xce00 | c.key.keyId)).toBe(true);
    const r = await run(
      [
        'key',
        'export',
        '--key-id',
        String(c.key.keyId),
        '--out',
        join(tmpdir(), 'never.pka'),
        '--emulator',
        'x',
      ],
      filteredCard(c.card, () => true),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has no authenticated request/);
  });
});
