/**
 * The one place the CLI writes to the terminal (issue 7 item 2): every command, the error
 * reporter and commander's own messages write through {@link terminalWriter}, which escapes
 * control and format characters (shared/text/terminal-safe.ts). Strings from the server, the
 * card or files therefore never need escaping at the call site, and a new output path cannot
 * forget it.
 * @module
 */
import { terminalSafe } from '../shared/text/terminal-safe';
import type { CliIo } from './context';

const SAFE = Symbol('terminal-safe');

/** `io` with every write made terminal-safe (idempotent: wrapping twice changes nothing). */
export function terminalWriter(io: CliIo): CliIo {
  if ((io as { [SAFE]?: true })[SAFE]) return io;
  return {
    out: (text) => io.out(terminalSafe(text)),
    err: (text) => io.err(terminalSafe(text)),
    [SAFE]: true,
  } as CliIo;
}
