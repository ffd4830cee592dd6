/**
 * What the custodian commands need besides the shared CLI services: output, a line-based
 * input for answers, the custodian home, the WebSocket connector, and opening the custodian's
 * card as an engine {@link CardOpener} (exclusive PC/SC access, or the emulator in tests).
 * @module
 */
import type { CardTransport } from '../../core/card/transport';
import type { CardOpener } from '../../core/custodian/card-session';
import type { WsConnector } from '../../core/net/ws-transport';
import type { CliDeps, CliIo } from '../context';
import { UsageError } from '../errors';

/** Services of the custodian commands. */
export type CustodianCommandDeps = CliDeps & {
  readonly io: CliIo;
  /** Environment (for `$CUSTODIAN_HOME`); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where interactive answers come from (default stdin). */
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** WebSocket connector override (tests). */
  readonly connector?: WsConnector;
};

/** Card selection options. */
export type CardChoice = { readonly reader?: string; readonly emulator?: string };

/**
 * A {@link CardOpener} for the chosen card. Each call opens a fresh connection; closing the
 * transport also releases PC/SC. A named reader is required for PC/SC, so an approval never
 * lands on a card the custodian did not choose.
 */
export function cardOpener(choice: CardChoice, deps: CliDeps): CardOpener {
  if (choice.emulator !== undefined && choice.reader !== undefined) {
    throw new UsageError('use either --reader or --emulator, not both');
  }
  if (choice.emulator !== undefined) {
    const file = choice.emulator;
    const open = deps.openEmulator;
    if (!open) throw new UsageError('--emulator is not available in this build');
    return () => open(file);
  }
  const reader = choice.reader;
  if (reader === undefined) {
    throw new UsageError(
      'name the reader of your custodian card with --reader NAME (see `custodian readers`)',
    );
  }
  return async (): Promise<CardTransport> => {
    const pcsc = await deps.openPcsc();
    try {
      // Exclusive: no other program can talk to the card while the ceremony holds PIN state.
      const card = await pcsc.connect(reader, { share: 'exclusive' });
      // Delegates explicitly (no prototype tricks): closing also releases the PC/SC context.
      const wrapped: CardTransport & { features(): Promise<ReadonlyMap<number, number>> } = {
        get atr() {
          return card.atr;
        },
        transmit: (apdu) => card.transmit(apdu),
        reset: () => card.reset(),
        transaction: (fn) => card.transaction(fn),
        features: () => card.features(),
        ...(card.control
          ? { control: (code: number, data: Uint8Array) => card.control!(code, data) }
          : {}),
        close: async (disposition) => {
          try {
            await card.close(disposition ?? 'reset');
          } finally {
            await pcsc.close().catch(() => undefined);
          }
        },
      };
      return wrapped;
    } catch (e) {
      await pcsc.close().catch(() => undefined);
      throw e;
    }
  };
}
