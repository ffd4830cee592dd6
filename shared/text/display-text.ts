/**
 * The display-text character rule without zod, so the renderer can apply it (the renderer
 * bundle stays free of zod, whose schema compiler would trip the app's CSP).
 * @module
 */

/**
 * Characters never allowed in display text: controls (Cc, including CR/LF/TAB), format
 * characters (Cf: bidi overrides and isolates, zero-width characters, BOM), lone surrogates
 * (Cs), private use (Co), line and paragraph separators. Untrusted display text must not be
 * able to reorder, hide or fake what the custodian reads (docs/card-reference.md §14.2 item 7).
 */
const FORBIDDEN_DISPLAY = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\u2028\u2029]/u;

/** True when `text` contains a character forbidden in display text. */
export function hasForbiddenDisplayCharacter(text: string): boolean {
  return FORBIDDEN_DISPLAY.test(text);
}

/** True when `text` is valid display text of 1..`max` UTF-16 code units (not blank). */
export function isDisplayText(text: string, max: number): boolean {
  return (
    text.length >= 1 &&
    text.length <= max &&
    text.trim().length > 0 &&
    !hasForbiddenDisplayCharacter(text)
  );
}
