/**
 * Error text the server sends back must itself be valid `text(500)` (docs/protocol.md §2.1):
 * a parser's message can quote the offending input (a key with C1 controls, bidi overrides,
 * a lone surrogate), which the encoder then refuses — the error frame was silently dropped
 * (issue 11 item 6). Every character display text forbids is replaced by a visible `\uXXXX`.
 * @module
 */

const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\u2028\u2029]/gu;

/**
 * `text` as display text of at most `max` UTF-16 code units: forbidden characters escaped,
 * cut at a code point boundary, `fallback` when nothing printable is left.
 */
export function safeErrorText(text: string, max = 500, fallback = 'invalid message'): string {
  const escaped = text.replace(FORBIDDEN, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
  let out = '';
  for (const ch of escaped) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out.trim().length > 0 ? out : fallback;
}
