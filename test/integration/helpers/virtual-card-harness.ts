/**
 * Puts a VirtualCard into a vpcd reader and waits until pcscd has seen it; stops it the same
 * way (until pcscd reports the removal), so tests never race pcscd's card polling.
 */
import { openPcsc, type Pcsc, type PcscEvent } from '../../../core/pcsc/pcsc-adapter';
import { isCardPresent, nextEvent } from '../../../emulator/pcsc-wait';
import { connectVpcd, type VpcdConnection } from '../../../emulator/vpcd-client';
import type { VirtualCard } from '../../../emulator/virtual-card';
import { lockSlot, type VpcdSlot } from '../../../emulator/vpcd-slots';

/** A virtual card inserted in a reader. */
export type InsertedCard = {
  readonly reader: string;
  readonly port: number;
  readonly connection: VpcdConnection;
  /** The ATR pcscd reported on insertion. */
  readonly atr: Uint8Array | undefined;
  /** Removes the card and resolves once pcscd reports it gone (idempotent). */
  stop(): Promise<void>;
  /** Yanks the card (no FIN, no answer pending), resolving once pcscd reports it gone. */
  yank(): Promise<void>;
};

/** Options of {@link insertVirtualCard}. */
export type InsertOptions = {
  /** A PC/SC context to watch with (default: a private one, closed on stop). */
  readonly pcsc?: Pcsc;
  /** Deadline for pcscd to notice insertion or removal (default 10 000 ms). */
  readonly timeoutMs?: number;
  readonly log?: (msg: string) => void;
};

export { lockSlot } from '../../../emulator/vpcd-slots';
export { isCardPresent, nextEvent } from '../../../emulator/pcsc-wait';

/** Connects `card` to the vpcd slot and waits until pcscd reports it inserted. */
export async function insertVirtualCard(
  card: VirtualCard,
  slot: VpcdSlot,
  options: InsertOptions = {},
): Promise<InsertedCard> {
  const own = options.pcsc === undefined;
  const pcsc = options.pcsc ?? (await openPcsc());
  const ms = options.timeoutMs ?? 10_000;
  const names = await pcsc.listReaders();
  if (!names.includes(slot.reader)) throw new Error(`reader "${slot.reader}" not listed by pcscd`);
  // Worst case lock + free + insert = 4 × ms, inside a 60 s hook for the 10 s default.
  const release = await lockSlot(slot.port, 2 * ms);
  let connection: VpcdConnection | undefined;
  let event: PcscEvent;
  try {
    // A card of a process that does not take the lock: wait for it to leave.
    if (isCardPresent(pcsc, slot.reader)) {
      await nextEvent(
        pcsc,
        (e) => e.type === 'card-removed' && e.reader === slot.reader,
        ms,
        `free ${slot.reader}`,
      );
    }
    const inserted = nextEvent(
      pcsc,
      (e) => e.type === 'card-inserted' && e.reader === slot.reader,
      ms,
      `insert into ${slot.reader}`,
    );
    const log = options.log;
    connection = await connectVpcd(card, {
      port: slot.port,
      ...(log !== undefined ? { log } : {}),
    });
    event = await inserted;
  } catch (e) {
    await connection?.close();
    release();
    if (own) await pcsc.close();
    throw e;
  }
  const conn = connection;
  let stopped: Promise<void> | undefined;
  const remove = (how: () => Promise<void> | void): Promise<void> => {
    stopped ??= (async () => {
      if (!isCardPresent(pcsc, slot.reader)) {
        // Already gone (e.g. the card yanked itself mid-command).
        await how();
        await conn.closed;
        release();
        if (own) await pcsc.close();
        return;
      }
      const removed = nextEvent(
        pcsc,
        (e) => e.type === 'card-removed' && e.reader === slot.reader,
        ms,
        `remove from ${slot.reader}`,
      );
      await how();
      await conn.closed;
      try {
        await removed;
      } finally {
        release();
        if (own) await pcsc.close();
      }
    })();
    return stopped;
  };
  return {
    reader: slot.reader,
    port: slot.port,
    connection: conn,
    atr: event.atr,
    stop: () => remove(() => conn.close()),
    yank: () => remove(() => conn.abort()),
  };
}
