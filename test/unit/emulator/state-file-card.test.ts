import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApduChannel } from '../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { SO_PIN, testCa } from '../../integration/custodian/harness';
import { asciiBytes } from '../../../shared/codec/bytes';
import { createDeviceState, loadState, saveState } from '../../../emulator/card/state-file';
import { openEmulatorStateFile } from '../../../emulator/state-file-card';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'emu-file-'));
  dirs.push(d);
  return d;
}

describe('openEmulatorStateFile (the launchers’ one way to open --emulator files)', () => {
  it('opens a state file as a card and saves what the card changes back to the file', async () => {
    const file = join(tmp(), 'card.json');
    const initial = createDeviceState(testCa(), { serial: 42 });
    saveState(file, initial);
    const transport = openEmulatorStateFile(file);
    const hsm = new SmartCardHsm(new ApduChannel(transport));
    await hsm.select();
    expect(initial.userPin).toBeUndefined();
    await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes('648219'), retries: 3 });
    expect(loadState(file).userPin?.retries).toBe(3);
    await hsm.verifyPin(asciiBytes('000000')); // a wrong PIN: the card counts it
    await transport.close();
    expect(loadState(file).userPin?.retries).toBe(2);
  });

  it('names the file when it is missing or not a state', () => {
    const dir = tmp();
    expect(() => openEmulatorStateFile(join(dir, 'nope.json'))).toThrow(
      /nope\.json does not exist/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"not":"a state"}');
    expect(() => openEmulatorStateFile(bad)).toThrow();
  });
});
