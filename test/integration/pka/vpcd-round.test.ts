/**
 * The PKA round of in-process-round.test.ts over the real stack: two emulated SmartCard-HSMs in
 * the two vpcd readers, reached through pcscd, pcsclite and the PC/SC adapter; then
 * `custodian card info` against the target over PC/SC.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApduChannel } from '../../../core/card/apdu-channel';
import { openPcsc, type Pcsc, type PcscCard } from '../../../core/pcsc/pcsc-adapter';
import { SmartCardHsm } from '../../../core/sc-hsm/sc-hsm-session';
import { main } from '../../../cli/main';
import { asciiBytes } from '../../../shared/codec/bytes';
import { CardStatusError } from '../../../shared/card/status-words';
import { parsePkaFile } from '../../../shared/pka/pka-file';
import { ALGO } from '../../../shared/sc-hsm/constants';
import { signCommand } from '../../../shared/sc-hsm/sign';
import { generateTestCa } from '../../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../emulator/card/state-file';
import { describePcsc, pcscAvailability } from '../helpers/pcscd';
import { insertVirtualCard, type InsertedCard } from '../helpers/virtual-card-harness';

const availability = await pcscAvailability();
const SO_PIN = '3537363231383830';
const PIN = '648219';

describePcsc('PKA round over pcscd and vpcd', availability, (slots) => {
  const ca = generateTestCa();
  const inserted: InsertedCard[] = [];
  const connected: PcscCard[] = [];
  let pcsc: Pcsc;
  let custodian: SmartCardHsm;
  let target: SmartCardHsm;
  let targetChannel: ApduChannel;

  beforeAll(async () => {
    pcsc = await openPcsc();
    const [s0, s1] = [slots[0]!, slots[1]!];
    inserted.push(
      await insertVirtualCard(
        new EmulatedSmartCardHsm(createDeviceState(ca, { serial: 101 })),
        s0,
        { pcsc },
      ),
    );
    inserted.push(
      await insertVirtualCard(
        new EmulatedSmartCardHsm(createDeviceState(ca, { serial: 102 })),
        s1,
        { pcsc },
      ),
    );
    const c0 = await pcsc.connect(s0.reader);
    const c1 = await pcsc.connect(s1.reader);
    connected.push(c0, c1);
    custodian = new SmartCardHsm(new ApduChannel(c0));
    targetChannel = new ApduChannel(c1);
    target = new SmartCardHsm(targetChannel);
  });

  afterAll(async () => {
    for (const c of connected.splice(0)) await c.close('reset').catch(() => undefined);
    for (const c of inserted.splice(0)) await c.stop();
    await pcsc?.close();
  });

  it('registers a custodian key, authenticates with it and unlocks the target', async () => {
    await custodian.select();
    await custodian.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN) });
    expect(await custodian.verifyPin(asciiBytes(PIN))).toEqual({ state: 'verified' });
    const key = await custodian.generateCustodianKey({ label: 'custodian over PC/SC' });
    const file = parsePkaFile(await custodian.exportPka(key.keyId));
    if (!file.ok) throw new Error(file.error.message);

    await target.select();
    await target.initialize({ soPin: SO_PIN, pka: { m: 1, n: 1 } });
    expect(await target.registerPublicKey(file.value)).toEqual({
      m: 1,
      missing: 0,
      n: 1,
      authenticated: 0,
    });

    // A wrong signature is refused with the emulator's SW, over the wire.
    await target.selectPkaKey(asciiBytes(key.chr));
    await target.getChallenge();
    const refused = await target
      .externalAuthenticate(new Uint8Array(64).fill(3))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CardStatusError);
    expect((refused as CardStatusError).sw).toBe(0x6985);

    const status = await target.authenticatePka(asciiBytes(key.chr), (chr, challenge) =>
      custodian.signPkaChallenge(key.keyId, chr, challenge),
    );
    expect(status).toEqual({ m: 1, missing: 0, n: 1, authenticated: 1 });
    const protectedKey = await target.generateCustodianKey({ label: 'protected' });
    const cmd = signCommand(protectedKey.keyId, ALGO.ECDSA_SHA256, asciiBytes('payload'));
    if (!cmd.ok) throw new Error(cmd.error.message);
    expect((await targetChannel.send(cmd.value)).sw).toBe(0x9000);
  });

  it('custodian card info reads the target over PC/SC and finds it genuine', async () => {
    // Release the test's connections so the CLI can connect exclusively (the reset logs out).
    for (const c of connected.splice(0)) await c.close('reset');
    let stdout = '';
    let stderr = '';
    const io = { out: (t: string) => void (stdout += t), err: (t: string) => void (stderr += t) };
    const code = await main(
      ['card', 'info', '--reader', slots[1]!.reader, '--trust-anchor', 'root.cvc', '--json'],
      { readFile: async () => ca.root.cvc },
      io,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.source).toEqual({ type: 'pcsc', reader: slots[1]!.reader });
    expect(report.genuine).toMatchObject({ genuine: true, anchorChr: 'UTCUSTSRCA00001' });
    expect(report.pka).toEqual({ m: 1, missing: 0, n: 1, authenticated: 0 });
    expect(report.keys).toEqual([
      expect.objectContaining({ label: 'protected', hasRequest: true }),
    ]);

    // Both readers hold a card: without --reader the CLI asks which one.
    let err2 = '';
    const ambiguous = await main(
      ['card', 'info'],
      {},
      { out: () => undefined, err: (t) => void (err2 += t) },
    );
    expect(ambiguous).toBe(2);
    expect(err2).toMatch(/cards in 2 readers .* choose one with --reader NAME/);
  });
});
