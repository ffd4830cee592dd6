/**
 * CVC dates (`5F25` effective, `5F24` expiration): six bytes, one decimal digit each, `YYMMDD`,
 * years 2000–2099 (docs/card-reference.md §4.1, e.g. `01 02 01 01 00 09` = 2012-11-09).
 * @module
 */
import { err, ok, type Result } from '../result';

/** A calendar date (UTC), month and day 1-based. */
export type CvcDate = { year: number; month: number; day: number };

/** Why date bytes were rejected. */
export type CvcDateError = { code: 'bad-date'; message: string };

const daysInMonth = (year: number, month: number): number =>
  new Date(Date.UTC(year, month, 0)).getUTCDate();

const isValidDate = (d: CvcDate): boolean =>
  Number.isInteger(d.year) &&
  Number.isInteger(d.month) &&
  Number.isInteger(d.day) &&
  d.year >= 2000 &&
  d.year <= 2099 &&
  d.month >= 1 &&
  d.month <= 12 &&
  d.day >= 1 &&
  d.day <= daysInMonth(d.year, d.month);

/** Decodes the six digit bytes; rejects non-digits and impossible dates (e.g. 2013-02-30). */
export function decodeCvcDate(bytes: Uint8Array): Result<CvcDate, CvcDateError> {
  if (bytes.length !== 6) {
    return err({ code: 'bad-date', message: `date must be 6 bytes, got ${bytes.length}` });
  }
  if (bytes.some((b) => b > 9)) {
    return err({ code: 'bad-date', message: 'date bytes must be decimal digits 0–9' });
  }
  const n = (i: number): number => bytes[i]! * 10 + bytes[i + 1]!;
  const d: CvcDate = { year: 2000 + n(0), month: n(2), day: n(4) };
  if (!isValidDate(d))
    return err({ code: 'bad-date', message: `no such date ${formatCvcDate(d)}` });
  return ok(d);
}

/**
 * Encodes a date as six digit bytes.
 * @throws Error when the date is not a real date in 2000–2099
 */
export function encodeCvcDate(d: CvcDate): Uint8Array {
  if (!isValidDate(d)) throw new Error(`date ${formatCvcDate(d)} not encodable in a CVC`);
  const yy = d.year - 2000;
  return Uint8Array.of(
    Math.floor(yy / 10),
    yy % 10,
    Math.floor(d.month / 10),
    d.month % 10,
    Math.floor(d.day / 10),
    d.day % 10,
  );
}

/** The UTC calendar date of a JS Date. */
export function cvcDateFromDate(date: Date): CvcDate {
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareCvcDate(a: CvcDate, b: CvcDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** `YYYY-MM-DD`. */
export function formatCvcDate(d: CvcDate): string {
  const pad = (v: number, w: number): string => String(v).padStart(w, '0');
  return `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;
}
