import { beforeAll, describe, expect, it } from 'vitest';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { asciiBytes, toHex } from '../../../../shared/codec/bytes';
import { CardStatusError } from '../../../../shared/card/status-words';
import { parsePkaFile, type PkaFile } from '../../../../shared/pka/pka-file';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../../emulator/transport/in-process';
import { ScriptedChannel } from './scripted-channel';

let file: PkaFile;

beforeAll(async () => {
  // A real .pka file from an emulated custodian device.
  const card = new EmulatedSmartCardHsm(createDeviceState(generateTestCa(), { serial: 77 }));
  const hsm = new SmartCardHsm(new ApduChannel(createInProcessTransport(card)));
  await hsm.select();
  await hsm.initialize({ soPin: '3537363231383830', userPin: asciiBytes('648219') });
  await hsm.verifyPin(asciiBytes('648219'));
  const key = await hsm.generateCustodianKey({ label: 'k' });
  const r = parsePkaFile(await hsm.exportPka(key.keyId));
  if (!r.ok) throw new Error(r.error.message);
  file = r.value;
});

const mse = (ref: string) =>
  `002281b6${(ref.length + 2).toString(16).padStart(2, '0')}83${ref.length.toString(16).padStart(2, '0')}${toHex(asciiBytes(ref))}`;

describe('registerPublicKey (docs/card-reference.md §6.5)', () => {
  it('imports DICA then device certificate, selects the device key, then registers', async () => {
    const { dica, device, request } = file;
    const ch = new ScriptedChannel([
      { cmd: mse(dica.body.chr), sw: 0x6a88 },
      { cmd: mse(dica.body.car!), sw: 0x9000 },
      { cmd: '002a00be*', sw: 0x9000 },
      { cmd: mse(device.body.chr), sw: 0x6a88 },
      { cmd: mse(device.body.car!), sw: 0x9000 },
      { cmd: '002a00be*', sw: 0x9000 },
      { cmd: mse(request.outerCar), sw: 0x9000 },
      { cmd: '80540000*', data: '01000100', sw: 0x9000 },
    ]);
    expect(await new SmartCardHsm(ch).registerPublicKey(file)).toEqual({
      m: 1,
      missing: 0,
      n: 1,
      authenticated: 0,
    });
    expect(ch.done).toBe(true);
    // PSO carries the certificate without its 7F21 header; 80 54 the value of 67.
    expect(toHex(ch.commands[2]!.data)).toBe(
      toHex(dica.encoded).slice(toHex(dica.encoded).indexOf('7f4e')),
    );
    expect(toHex(ch.commands[7]!.data)).toBe(toHex(request.content));
    expect(ch.commands[7]!.ne).toBe(4);
  });

  it('skips certificates the target already knows', async () => {
    const ch = new ScriptedChannel([
      { cmd: mse(file.dica.body.chr), sw: 0x9000 },
      { cmd: mse(file.device.body.chr), sw: 0x9000 },
      { cmd: mse(file.request.outerCar), sw: 0x9000 },
      { cmd: '80540000*', data: '02000100', sw: 0x9000 },
    ]);
    expect((await new SmartCardHsm(ch).registerPublicKey(file)).missing).toBe(0);
    expect(ch.done).toBe(true);
  });

  it('treats any other answer to "is it known?" as an error (OpenSC checks with && instead of ||)', async () => {
    // 6A80 shares SW1 with 6A88 and 6988 would share SW2: neither means "unknown, import it".
    for (const sw of [0x6a80, 0x6988, 0x6982]) {
      const ch = new ScriptedChannel([{ cmd: mse(file.dica.body.chr), sw }]);
      const e = await new SmartCardHsm(ch).registerPublicKey(file).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CardStatusError);
      expect((e as CardStatusError).sw).toBe(sw);
      expect((e as CardStatusError).operation).toMatch(/is DICA .* known/);
      expect(ch.done).toBe(true);
    }
  });

  it('names the step the target refused', async () => {
    const ch = new ScriptedChannel([
      { cmd: mse(file.dica.body.chr), sw: 0x9000 },
      { cmd: mse(file.device.body.chr), sw: 0x6a88 },
      { cmd: mse(file.device.body.car!), sw: 0x9000 },
      { cmd: '002a00be*', sw: 0x6985 },
    ]);
    await expect(new SmartCardHsm(ch).registerPublicKey(file)).rejects.toThrow(
      new RegExp(
        `PSO VERIFY CERTIFICATE \\(device certificate ${file.device.body.chr}\\) failed: 6985`,
      ),
    );
  });
});
