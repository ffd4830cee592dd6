/**
 * The human-readable message of anything a `catch` can receive, without the unchecked
 * `(e as Error).message` cast (which yields `undefined` for a thrown string or object).
 * @module
 */

/**
 * The message of a caught value: an Error's `message`, a string as is, otherwise `String(e)`
 * (never throws, also for objects whose `toString` throws).
 */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return String(e);
  } catch {
    return Object.prototype.toString.call(e);
  }
}
