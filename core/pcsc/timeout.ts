/**
 * Deadlines for calls into the native module: a PC/SC call that never returns must not hang
 * the caller. The native call keeps running in libuv's pool; the caller gets a typed timeout.
 * @module
 */
import { CardTransportError } from '../card/transport';

/** Resolves like `promise`, or rejects with a `timeout` CardTransportError after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CardTransportError('timeout', `${what} did not complete within ${ms} ms`)),
      ms,
    );
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Adapts a Node-style callback API to a promise. */
export function fromCallback<T>(
  start: (cb: (err: Error | null | undefined, result?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      start((err, result) => (err ? reject(err) : resolve(result as T)));
    } catch (e) {
      reject(e);
    }
  });
}
