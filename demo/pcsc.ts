/**
 * `--pcsc`: the same demo over the real PC/SC stack. The target sits in vpcd reader 0 and the
 * first custodian's card in vpcd reader 1, both reached through pcscd and pcsclite, connected
 * exclusively (docs/card-reference.md §6.7: nobody else may see the authentication state). The other four
 * custodians stay in-process. vpcd adds tens of milliseconds per APDU, so this mode is slower.
 * @module
 */
import type { CardTransport } from '../core/card/transport';
import { openPcsc, type Pcsc } from '../core/pcsc/pcsc-adapter';
import type { TestCa } from '../emulator/ca/test-ca';
import { createDeviceState } from '../emulator/card/state-file';
import { EmulatedSmartCardHsm } from '../emulator/card/sc-hsm-card';
import { createInProcessTransport } from '../emulator/transport/in-process';
import { connectVpcd, type VpcdConnection } from '../emulator/vpcd-client';
import type { VirtualCard } from '../emulator/virtual-card';
import {
  CUSTODIANS,
  CUSTODIAN_SERIAL,
  custodianCard,
  deviceIdOf,
  freshTarget,
  setUpCustodianCard,
} from './cards';
import type { CustodianSeat, Hardware } from './hardware';
import { isCardPresent, nextEvent } from '../emulator/pcsc-wait';
import {
  checkInstalled,
  lockSlot,
  notRunningAdvice,
  PcscSetupError,
  vpcdSlots,
  type VpcdSlot,
} from './pcsc-env';
import { messageOf } from '../shared/error-message';

const EVENT_MS = 10_000;

type Inserted = {
  readonly slot: VpcdSlot;
  readonly conn: VpcdConnection;
  readonly release: () => void;
};

/** Puts `card` into `slot` and waits until pcscd has seen it. */
async function insert(pcsc: Pcsc, card: VirtualCard, slot: VpcdSlot): Promise<Inserted> {
  const release = await lockSlot(slot.port);
  try {
    if (isCardPresent(pcsc, slot.reader)) {
      await nextEvent(
        pcsc,
        (e) => e.type === 'card-removed' && e.reader === slot.reader,
        EVENT_MS,
        `wait for ${slot.reader} to be free`,
      );
    }
    const seen = nextEvent(
      pcsc,
      (e) => e.type === 'card-inserted' && e.reader === slot.reader,
      EVENT_MS,
      `insert into ${slot.reader}`,
    );
    const conn = await connectVpcd(card, { port: slot.port, connectTimeoutMs: 5000 });
    await seen;
    return { slot, conn, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** Removes an inserted card and waits for pcscd to notice. */
async function remove(pcsc: Pcsc, i: Inserted): Promise<void> {
  try {
    const gone = isCardPresent(pcsc, i.slot.reader)
      ? nextEvent(
          pcsc,
          (e) => e.type === 'card-removed' && e.reader === i.slot.reader,
          EVENT_MS,
          `remove from ${i.slot.reader}`,
        )
      : Promise.resolve();
    await i.conn.close();
    await gone.catch(() => undefined);
  } finally {
    i.release();
  }
}

/** An exclusive PC/SC connection whose close leaves the shared context open. */
const opener = (pcsc: Pcsc, reader: string) => (): Promise<CardTransport> =>
  pcsc.connect(reader, { share: 'exclusive' });

/** Target in vpcd reader 0, alice in vpcd reader 1, the rest in-process. */
export async function pcscHardware(ca: TestCa, say: (line: string) => void): Promise<Hardware> {
  checkInstalled();
  let pcsc: Pcsc;
  try {
    pcsc = await openPcsc();
  } catch (e) {
    throw new PcscSetupError(notRunningAdvice(messageOf(e)));
  }
  const inserted: Inserted[] = [];
  const close = async () => {
    for (const i of inserted.splice(0).reverse()) await remove(pcsc, i).catch(() => undefined);
    await pcsc.close().catch(() => undefined);
  };
  try {
    const slots = await vpcdSlots(pcsc);
    if (slots.length < 2) {
      const listed = (await pcsc.listReaders()).join(', ') || 'none';
      throw new PcscSetupError(
        `--pcsc needs two vpcd reader slots, pcscd lists: ${listed}. Debian's vsmartcard-vpcd serves two (ports 35963, 35964); otherwise add a second reader.conf entry with CHANNELID 0x8C7C (see .ci/run) and restart pcscd`,
      );
    }
    const [s0, s1] = [slots[0]!, slots[1]!];
    const target = freshTarget(ca);
    inserted.push(await insert(pcsc, target, s0));
    say(`target card inserted into "${s0.reader}" (vpcd port ${s0.port})`);
    const who = CUSTODIANS[0]!;
    const aliceCard = new EmulatedSmartCardHsm(createDeviceState(ca, { serial: CUSTODIAN_SERIAL }));
    inserted.push(await insert(pcsc, aliceCard, s1));
    say(
      `${who.name}'s card inserted into "${s1.reader}" (vpcd port ${s1.port}); set up over PC/SC`,
    );
    const openAlice = opener(pcsc, s1.reader);
    const aliceKey = await setUpCustodianCard(await openAlice(), who.name, who.pin);
    const custodians: CustodianSeat[] = [
      {
        name: who.name,
        pin: who.pin,
        card: aliceCard,
        deviceId: deviceIdOf(aliceCard),
        ...aliceKey,
        openCard: openAlice,
        via: `pcscd, reader "${s1.reader}"`,
      },
    ];
    for (let i = 1; i < CUSTODIANS.length; i++) {
      const c = await custodianCard(ca, i);
      custodians.push({
        ...c,
        openCard: async () => createInProcessTransport(c.card),
        via: 'in-process emulator',
      });
    }
    return {
      openTarget: opener(pcsc, s0.reader),
      targetDeviceId: deviceIdOf(target),
      targetVia: `pcscd, reader "${s0.reader}", exclusive`,
      custodians,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
