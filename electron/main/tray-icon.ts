/**
 * Draws the tray icon with the number of pending ceremonies as a badge: a calm blue key-shield
 * when nothing waits, plus a red badge with the count (1–9, then "9+") when ceremonies wait.
 * Pure pixel code, so the result is unit-tested without Electron.
 * @module
 */

/** An RGBA bitmap. */
export type Bitmap = { readonly width: number; readonly height: number; readonly rgba: Uint8Array };

/** 3×5 digits and '+' (rows top to bottom, 3 bits each, MSB left). */
const GLYPHS: Readonly<Record<string, readonly number[]>> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 2, 2, 2],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '+': [0, 2, 7, 2, 0],
};

type Rgba = readonly [number, number, number, number];
const BASE: Rgba = [37, 99, 160, 255];
/** Not connected: the same key on grey. */
const GREY: Rgba = [128, 134, 142, 255];
const KEY: Rgba = [255, 255, 255, 255];
const BADGE: Rgba = [200, 40, 40, 255];
const BADGE_TEXT: Rgba = [255, 255, 255, 255];

/** The badge text for a count: '' for none, '1'…'9', '9+'. */
export function badgeText(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return '';
  return count > 9 ? '9+' : String(Math.floor(count));
}

/**
 * Renders the icon at `size` pixels (16, 32 or 64 work well; at least 16).
 */
export function renderTrayIcon(count: number, size = 32, grey = false): Bitmap {
  if (!Number.isInteger(size) || size < 16 || size > 256) throw new RangeError('tray icon size');
  const rgba = new Uint8Array(size * size * 4);
  const put = (x: number, y: number, c: Rgba) => {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    rgba.set(c, (y * size + x) * 4);
  };
  const s = size / 32;
  // Rounded square.
  const r = 6 * s;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = Math.max(r - x - 0.5, x + 0.5 - (size - r), 0);
      const dy = Math.max(r - y - 0.5, y + 0.5 - (size - r), 0);
      if (dx * dx + dy * dy <= r * r) put(x, y, grey ? GREY : BASE);
    }
  }
  // A key: ring at the left, shaft to the right with two teeth.
  const cx = 11 * s;
  const cy = 16 * s;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d <= 6 * s && d >= 3 * s) put(x, y, KEY);
      const inShaft = x >= 16 * s && x < 27 * s && y >= 15 * s && y < 18 * s;
      const inTooth =
        (x >= 21 * s && x < 23 * s && y >= 18 * s && y < 21 * s) ||
        (x >= 25 * s && x < 27 * s && y >= 18 * s && y < 22 * s);
      if (inShaft || inTooth) put(x, y, KEY);
    }
  }
  const text = badgeText(count);
  if (text !== '') {
    const scale = Math.max(1, Math.round(2 * s));
    const glyphW = 3 * scale;
    const textW = text.length * glyphW + (text.length - 1) * scale;
    const badgeW = Math.max(textW + 4 * scale, 5 * scale + 4 * scale);
    const badgeH = 5 * scale + 4 * scale;
    const x0 = size - badgeW;
    const rr = badgeH / 2;
    for (let y = 0; y < badgeH; y++) {
      for (let x = 0; x < badgeW; x++) {
        const dx = Math.max(rr - x - 0.5, x + 0.5 - (badgeW - rr), 0);
        const dy = Math.max(rr - y - 0.5, y + 0.5 - (badgeH - rr), 0);
        if (dx * dx + dy * dy <= rr * rr) put(x0 + x, y, BADGE);
      }
    }
    let gx = x0 + Math.floor((badgeW - textW) / 2);
    const gy = 2 * scale;
    for (const ch of text) {
      const rows = GLYPHS[ch] ?? [];
      rows.forEach((bits, row) => {
        for (let col = 0; col < 3; col++) {
          if ((bits >> (2 - col)) & 1) {
            for (let py = 0; py < scale; py++) {
              for (let px = 0; px < scale; px++) {
                put(gx + col * scale + px, gy + row * scale + py, BADGE_TEXT);
              }
            }
          }
        }
      });
      gx += glyphW + scale;
    }
  }
  return { width: size, height: size, rgba };
}
