import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asciiBytes, bytesEqual } from '../../../shared/codec/bytes';
import { CaFileError, caToJson, createTestCa, loadTestCa } from '../../../emulator/ca/ca-store';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import {
  createDeviceState,
  loadState,
  saveState,
  StateFileError,
  stateFromJson,
  stateToJson,
} from '../../../emulator/card/state-file';
import { SC_HSM_AID } from '../../../shared/sc-hsm/constants';
import { generateKey, initAndLogin, newCard, register, testCa, USER_PIN } from './helpers';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'emu-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('state persistence', () => {
  it('round-trips a fully used device through JSON and keeps working', () => {
    const target = newCard();
    initAndLogin(target, { pka: [2, 1], dkek: 0 });
    generateKey(target, 4, 'UTPERSIST0001', 'brainpoolP256r1', [Uint8Array.of(0x90, 0x01, 0x05)]);
    target.expectSw(0x9000, 0x00, 0xd7, 0xc4, 0x04, Uint8Array.of(0x53, 0x01, 0x99));
    const custodian = newCard();
    initAndLogin(custodian);
    generateKey(custodian, 1, 'UTPERSISTC001');
    register(target, custodian, 1);
    const json = stateToJson(target.state);
    expect(json).not.toContain(Buffer.from(USER_PIN).toString('hex'));
    const restored = stateFromJson(json);
    expect(stateToJson(restored)).toBe(json);
    const card = new EmulatedSmartCardHsm(restored);
    card.powerOn();
    const sw = (apdu: number[]): string => {
      const r = card.process(Uint8Array.from(apdu));
      return Buffer.from(r.slice(-2)).toString('hex');
    };
    expect(sw([0x00, 0xa4, 0x04, 0x0c, 0x0b, ...SC_HSM_AID])).toBe('9000');
    expect(sw([0x00, 0x20, 0x00, 0x81, 0x06, ...USER_PIN])).toBe('9000');
    expect(sw([0x80, 0x68, 0x04, 0x73, 0x01, 0x41, 0x00])).toBe('9000');
    expect(restored.keys.get(4)!.useCounter).toBe(4);
    expect(restored.pka!.slots.length).toBe(1);
    expect(bytesEqual(restored.pka!.slots[0]!.chr, asciiBytes('UTPERSISTC001'))).toBe(true);
  });

  it('saves atomically with owner-only permissions and calls onChange once per changing command', () => {
    const dir = tempDir();
    const file = join(dir, 'dev.json');
    const state = createDeviceState(testCa(), { serial: 7 });
    saveState(file, state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    let saves = 0;
    const card = new EmulatedSmartCardHsm(loadState(file), {
      onChange: (s) => {
        saves++;
        saveState(file, s);
      },
    });
    card.powerOn();
    card.process(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, 0x0b, ...SC_HSM_AID));
    expect(saves).toBe(0);
    const init = Uint8Array.of(0x81, 0x06, ...USER_PIN, 0x82, 0x08, 1, 2, 3, 4, 5, 6, 7, 8);
    card.process(Uint8Array.of(0x80, 0x50, 0x00, 0x00, init.length, ...init));
    expect(saves).toBe(1);
    card.process(Uint8Array.of(0x00, 0x20, 0x00, 0x81, 0x06, ...asciiBytes('000000')));
    expect(saves).toBe(2);
    expect(loadState(file).userPin!.retries).toBe(2);
    expect(readdirSync(dir)).toEqual(['dev.json']);
  });

  it('answers 6F00 when persisting fails, never a false success', () => {
    const card = new EmulatedSmartCardHsm(createDeviceState(testCa()), {
      onChange: () => {
        throw new Error('disk full');
      },
    });
    card.powerOn();
    card.process(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, 0x0b, ...SC_HSM_AID));
    const init = Uint8Array.of(0x81, 0x06, ...USER_PIN, 0x82, 0x08, 1, 2, 3, 4, 5, 6, 7, 8);
    const r = card.process(Uint8Array.of(0x80, 0x50, 0x00, 0x00, init.length, ...init));
    expect([...r]).toEqual([0x6f, 0x00]);
  });

  it('rejects missing, corrupt and inconsistent state files with a clear error', () => {
    const dir = tempDir();
    expect(() => loadState(join(dir, 'none.json'))).toThrow(/does not exist/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format": 1');
    expect(() => loadState(bad)).toThrow(StateFileError);
    const good = JSON.parse(stateToJson(createDeviceState(testCa()))) as Record<string, unknown>;
    const variants: [string, (j: Record<string, unknown>) => void][] = [
      ['format', (j) => (j.format = 'other')],
      ['extra key', (j) => (j.extra = 1)],
      ['odd hex', (j) => ((j.identity as Record<string, string>).privateKey = 'abc')],
      ['key id', (j) => (j.keys = { '0': {} })],
      [
        'mismatched key',
        (j) => ((j.identity as Record<string, string>).privateKey = '11'.repeat(32)),
      ],
      ['no roots', (j) => (j.trustedRoots = [])],
      ['initialized without SO-PIN', (j) => (j.initialized = true)],
    ];
    for (const [name, mutate] of variants) {
      const j = structuredClone(good);
      mutate(j);
      expect(() => stateFromJson(JSON.stringify(j)), name).toThrow(StateFileError);
    }
  });
});

describe('test CA directory', () => {
  it('creates root.cvc + ca.json once and loads the same CA afterwards', () => {
    const dir = join(tempDir(), 'ca');
    const a = createTestCa(dir);
    const b = createTestCa(dir);
    expect(bytesEqual(a.root.cvc, b.root.cvc)).toBe(true);
    expect(bytesEqual(a.dica.privateKey, b.dica.privateKey)).toBe(true);
    expect(bytesEqual(new Uint8Array(readFileSync(join(dir, 'root.cvc'))), a.root.cvc)).toBe(true);
    expect(statSync(join(dir, 'ca.json')).mode & 0o777).toBe(0o600);
    expect(a.root.chr).not.toBe('UTSRCACC100001');
    // A device of this CA registers at a target trusting it (same chain logic as the tests use).
    const target = newCard({ ca: a });
    initAndLogin(target, { pin: null, pka: [1, 1] });
    const c = newCard({ ca: a });
    initAndLogin(c);
    generateKey(c, 1, 'UTCADIR000001');
    expect([...register(target, c, 1)]).toEqual([1, 0, 1, 0]);
  });

  it('rejects a tampered ca.json', () => {
    const dir = join(tempDir(), 'ca');
    const ca = createTestCa(dir);
    const j = JSON.parse(caToJson(ca)) as { dica: { privateKey: string }; root: { cvc: string } };
    j.dica.privateKey = '22'.repeat(32);
    writeFileSync(join(dir, 'ca.json'), JSON.stringify(j));
    expect(() => loadTestCa(dir)).toThrow(/DICA key does not match/);
    const k = JSON.parse(caToJson(ca)) as { root: { cvc: string } };
    k.root.cvc = k.root.cvc.slice(0, -2) + (k.root.cvc.endsWith('00') ? '01' : '00');
    writeFileSync(join(dir, 'ca.json'), JSON.stringify(k));
    expect(() => loadTestCa(dir)).toThrow(CaFileError);
    writeFileSync(join(dir, 'ca.json'), 'nope');
    expect(() => createTestCa(dir)).toThrow(CaFileError);
  });
});
