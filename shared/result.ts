/**
 * A typed success-or-failure value. Parsers in shared/ return this instead of throwing, so
 * every boundary (APDU, WebSocket, IPC, files) handles bad input explicitly.
 * @module
 */

/** Success with a value, or failure with a typed error. */
export type Result<T, E> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/** Wraps a value as a success. */
export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });

/** Wraps an error as a failure. */
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({
  ok: false,
  error,
});

/**
 * Returns the value of a success or throws the error of a failure (for callers that already
 * validated, and for tests). The thrown value is an Error carrying the typed error as `cause`.
 */
export function unwrap<T, E extends { readonly message: string }>(result: Result<T, E>): T {
  if (result.ok) return result.value;
  throw new Error(result.error.message, { cause: result.error });
}
