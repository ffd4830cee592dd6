/**
 * Server-provided text is untrusted display text (docs/card-reference.md §14.2 item 7): before it
 * reaches an OS surface (tray menu, notification) it is stripped of control and bidi override
 * characters and clipped.
 * @module
 */

/** Strips control, zero-width and bidi-override characters, collapses spaces, clips. */
export function displayText(text: string, max = 120): string {
  const cleaned = text
    // Control characters are exactly what this strips.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}
