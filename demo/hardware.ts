/**
 * Where the demo's cards live and how they are reached. The embedded default keeps all six
 * emulated cards in this process (no pcscd, no driver); `--pcsc` (demo/pcsc.ts) puts the target
 * and one custodian card into vpcd readers and reaches them through the real pcscd.
 * @module
 */
import type { CardTransport } from '../core/card/transport';
import type { CardOpener } from '../core/custodian/card-session';
import type { TestCa } from '../emulator/ca/test-ca';
import type { EmulatedSmartCardHsm } from '../emulator/card/sc-hsm-card';
import { createInProcessTransport } from '../emulator/transport/in-process';
import { CUSTODIANS, custodianCard, deviceIdOf, freshTarget, type CustodianCard } from './cards';

/** One custodian's card with the way the engine opens it. */
export type CustodianSeat = CustodianCard & {
  readonly openCard: CardOpener;
  /** How the card is reached, for the narration. */
  readonly via: string;
};

/** The demo's cards. */
export type Hardware = {
  /** Opens the target (the server's only connection to it). */
  readonly openTarget: () => Promise<CardTransport>;
  readonly targetDeviceId: string;
  /** How the target is reached, for the narration. */
  readonly targetVia: string;
  readonly custodians: readonly CustodianSeat[];
  /** The emulated target itself, when it lives in this process (`--mkimage` proves with it). */
  readonly targetCard?: EmulatedSmartCardHsm;
  /** Removes the cards and closes PC/SC contexts. */
  close(): Promise<void>;
};

/** All six cards in this process. */
export async function inProcessHardware(ca: TestCa): Promise<Hardware> {
  const target = freshTarget(ca);
  const custodians: CustodianSeat[] = [];
  for (const i of CUSTODIANS.keys()) {
    const c = await custodianCard(ca, i);
    custodians.push({
      ...c,
      openCard: async () => createInProcessTransport(c.card),
      via: 'in-process emulator',
    });
  }
  return {
    openTarget: async () => createInProcessTransport(target),
    targetDeviceId: deviceIdOf(target),
    targetVia: 'in-process emulator',
    custodians,
    targetCard: target,
    close: async () => undefined,
  };
}
