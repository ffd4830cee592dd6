/**
 * Text that came from the network, a card or a file made safe for a terminal (issue 7 item 2):
 * every C0/C1 control (ESC, CSI, CR, BEL, DEL…), Unicode format character (bidi overrides and
 * isolates, zero-width characters, tag characters), line/paragraph separator and lone
 * surrogate is replaced by a visible `\uXXXX` escape, so no byte sequence from outside can move
 * the cursor, recolour, rewrite or visually reorder what the custodian reads. The escape form is
 * also a valid JSON string escape, so `--json` output stays parseable. Pure; used by the CLI's
 * single terminal writer (cli/terminal.ts).
 * @module
 */

/** Characters never written raw (LF and TAB are decided by the caller). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu;

const escape = (c: string): string => {
  let out = '';
  // Code points above the BMP (tag characters) become their UTF-16 units, like JSON escapes.
  for (let i = 0; i < c.length; i++)
    out += `\\u${c.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
  return out;
};

/** Escapes unsafe characters; line feeds and tabs are kept (multi-line output of the CLI). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => (c === '\n' || c === '\t' ? c : escape(c)));
}

/** Escapes unsafe characters including line feeds and tabs: the text stays on one line. */
export function singleLineSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}
