/**
 * The demo's hardware, emulated: a factory-fresh target SmartCard-HSM and five custodian cards,
 * all issued by one TEST PKI (a throw-away root and DICA, never the production root). Each
 * custodian card gets its own user PIN and one PKA key, exported as a `.pka` (docs/card-reference.md §6.2).
 * @module
 */
import { ApduChannel } from '../core/card/apdu-channel';
import type { CardTransport } from '../core/card/transport';
import { SmartCardHsm } from '../core/sc-hsm/sc-hsm-session';
import type { TestCa } from '../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../emulator/card/sc-hsm-card';
import { createDeviceState } from '../emulator/card/state-file';
import { createInProcessTransport } from '../emulator/transport/in-process';
import { asciiBytes } from '../shared/codec/bytes';

/**
 * The five custodians of the demo: name and the PIN only they know (typed locally). Eight digits
 * so the PIN scan cannot hit one by chance inside hex data.
 */
export const CUSTODIANS: readonly { readonly name: string; readonly pin: string }[] = [
  { name: 'alice', pin: '48291375' },
  { name: 'bob', pin: '73610584' },
  { name: 'carol', pin: '15937206' },
  { name: 'dave', pin: '60481739' },
  { name: 'erin', pin: '92735841' },
];

/** Fixed serials keep device ids stable between runs (the keys are fresh each run). */
export const TARGET_SERIAL = 4200;
/** Serial of custodian i is CUSTODIAN_SERIAL + i. */
export const CUSTODIAN_SERIAL = 4301;

/** SO-PIN used for the custodian cards' own initialization (16 hex digits, docs/card-reference.md §3.4). */
const CUSTODIAN_SO_PIN = '3537363231383830';

/** A custodian card, set up and ready to approve. */
export type CustodianCard = {
  readonly name: string;
  readonly pin: string;
  readonly card: EmulatedSmartCardHsm;
  readonly deviceId: string;
  readonly keyId: number;
  readonly keyChr: string;
  /** Registration data for the target (docs/card-reference.md §6.2 export format). */
  readonly pka: Uint8Array;
};

/** A factory-fresh emulated SmartCard-HSM for the target. */
export function freshTarget(ca: TestCa): EmulatedSmartCardHsm {
  return new EmulatedSmartCardHsm(createDeviceState(ca, { serial: TARGET_SERIAL }));
}

/** The device id (CHR of the device certificate) of an emulated card. */
export function deviceIdOf(card: EmulatedSmartCardHsm): string {
  return new TextDecoder().decode(card.state.identity.chr);
}

/**
 * Initializes a custodian card over `transport` (3 PIN tries), generates its PKA key (only
 * ECDSA-SHA-256 allowed, docs/card-reference.md §6.2) and exports the `.pka`. The PIN is verified here
 * only to create the key; every later use goes through the engine's local PIN prompt.
 */
export async function setUpCustodianCard(
  transport: CardTransport,
  name: string,
  pin: string,
): Promise<{ keyId: number; keyChr: string; pka: Uint8Array }> {
  try {
    const hsm = new SmartCardHsm(new ApduChannel(transport));
    await hsm.select();
    await hsm.initialize({ soPin: CUSTODIAN_SO_PIN, userPin: asciiBytes(pin), retries: 3 });
    const status = await hsm.verifyPin(asciiBytes(pin));
    if (status.state !== 'verified') throw new Error(`${name}: PIN not accepted after initialize`);
    const key = await hsm.generateCustodianKey({ label: `${name} custodian key` });
    const pka = await hsm.exportPka(key.keyId);
    return { keyId: key.keyId, keyChr: key.chr, pka };
  } finally {
    // docs/card-reference.md §6.7: reset drops the PIN state before the card is handed over.
    await transport.close('reset');
  }
}

/** Creates and sets up custodian card `index` (in-process). */
export async function custodianCard(ca: TestCa, index: number): Promise<CustodianCard> {
  const who = CUSTODIANS[index];
  if (!who) throw new RangeError(`no custodian #${index}`);
  const card = new EmulatedSmartCardHsm(
    createDeviceState(ca, { serial: CUSTODIAN_SERIAL + index }),
  );
  const key = await setUpCustodianCard(createInProcessTransport(card), who.name, who.pin);
  return { name: who.name, pin: who.pin, card, deviceId: deviceIdOf(card), ...key };
}
