/**
 * `custodian readers [--json]`: the PC/SC readers and which hold a card.
 * @module
 */
import { readerStates } from '../card-source';
import type { CliDeps, CliIo } from '../context';

/** Options of `readers`. */
export type ReadersOptions = { readonly json?: boolean };

/** Lists readers; human lines by default, `{ readers: [...] }` with `--json`. */
export async function readersCommand(
  options: ReadersOptions,
  deps: CliDeps,
  io: CliIo,
): Promise<void> {
  const pcsc = await deps.openPcsc();
  try {
    const states = await readerStates(pcsc, deps.settleMs);
    if (options.json) {
      io.out(`${JSON.stringify({ readers: states }, null, 2)}\n`);
      return;
    }
    if (states.length === 0) {
      io.out('No smart card readers found.\n');
      return;
    }
    for (const s of states)
      io.out(
        `${s.name}\t${s.card ? `card present${s.atr ? ` (ATR ${s.atr})` : ''}` : 'no card'}\n`,
      );
  } finally {
    await pcsc.close();
  }
}
