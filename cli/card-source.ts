/**
 * Choosing and opening the card a command works on: a PC/SC reader (named, or the only one
 * holding a card) or an emulator state file.
 * @module
 */
import { ApduChannel } from '../core/card/apdu-channel';
import type { CardTransport } from '../core/card/transport';
import type { Pcsc } from '../core/pcsc/pcsc-adapter';
import { toHex } from '../shared/codec/bytes';
import type { CliDeps } from './context';
import { UsageError } from './errors';

/** A reader and whether it holds a card. */
export type ReaderState = { readonly name: string; readonly card: boolean; readonly atr?: string };

/** Default time for pcscd to report card presence after the reader list arrived. */
const DEFAULT_SETTLE_MS = 300;

/** Lists readers and which of them hold a card (PC/SC events, after a short settle time). */
export async function readerStates(
  pcsc: Pcsc,
  settleMs = DEFAULT_SETTLE_MS,
): Promise<ReaderState[]> {
  const names = await pcsc.listReaders();
  const atrs = new Map<string, Uint8Array | undefined>();
  const stop = pcsc.watch((e) => {
    if (e.type === 'card-inserted') atrs.set(e.reader, e.atr);
    else if (e.type === 'card-removed' || e.type === 'reader-removed') atrs.delete(e.reader);
  });
  try {
    if (names.length > 0 && settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    stop();
  }
  return names.map((name) => {
    if (!atrs.has(name)) return { name, card: false };
    const atr = atrs.get(name);
    return atr ? { name, card: true, atr: toHex(atr) } : { name, card: true };
  });
}

/** Where the card came from, for output. */
export type CardOrigin =
  | { readonly type: 'pcsc'; readonly reader: string }
  | { readonly type: 'emulator'; readonly file: string };

/** An open card: channel for the session, and how to let it go. */
export type OpenCard = {
  readonly channel: ApduChannel;
  readonly origin: CardOrigin;
  close(): Promise<void>;
};

/** Card selection options shared by card commands. */
export type CardOptions = { readonly reader?: string; readonly emulator?: string };

/** Picks the reader: the named one, else the only reader with a card. */
function pickReader(states: readonly ReaderState[], wanted: string | undefined): string {
  if (states.length === 0)
    throw new UsageError(
      'no smart card reader found — connect one; `custodian readers` lists what PC/SC sees',
    );
  if (wanted !== undefined) {
    if (!states.some((s) => s.name === wanted)) {
      throw new UsageError(
        `no reader named "${wanted}" (available: ${states.map((s) => `"${s.name}"`).join(', ')})`,
      );
    }
    return wanted;
  }
  const withCard = states.filter((s) => s.card);
  if (withCard.length === 1) return withCard[0]!.name;
  if (withCard.length === 0)
    throw new UsageError('no card in any reader — insert the SmartCard-HSM');
  throw new UsageError(
    `cards in ${withCard.length} readers (${withCard.map((s) => `"${s.name}"`).join(', ')}) — choose one with --reader NAME`,
  );
}

/** Opens the card selected by `options`; the caller must `close()` it. */
export async function openCard(options: CardOptions, deps: CliDeps): Promise<OpenCard> {
  if (options.emulator !== undefined) {
    if (options.reader !== undefined)
      throw new UsageError('use either --reader or --emulator, not both');
    if (!deps.openEmulator) throw new UsageError('--emulator is not available in this build');
    const transport: CardTransport = await deps.openEmulator(options.emulator);
    return {
      channel: new ApduChannel(transport),
      origin: { type: 'emulator', file: options.emulator },
      close: () => transport.close('reset'),
    };
  }
  const pcsc = await deps.openPcsc();
  try {
    const states =
      options.reader === undefined
        ? await readerStates(pcsc, deps.settleMs)
        : await namesOnly(pcsc);
    const reader = pickReader(states, options.reader);
    // Exclusive: nobody else can use the card while this session holds state on it.
    const card = await pcsc.connect(reader, { share: 'exclusive' });
    return {
      channel: new ApduChannel(card),
      origin: { type: 'pcsc', reader },
      close: async () => {
        await pcsc.close();
      },
    };
  } catch (e) {
    await pcsc.close().catch(() => undefined);
    throw e;
  }
}

async function namesOnly(pcsc: Pcsc): Promise<ReaderState[]> {
  return (await pcsc.listReaders()).map((name) => ({ name, card: true }));
}
