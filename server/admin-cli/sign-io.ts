/**
 * File work of `custodian-server sign` around the card's SIGNs: hashing a batch of files
 * ahead, checking a batch of signatures, and writing `.sig` files, each with a bounded number
 * of files open and read buffers reused, so memory stays constant over any number of files.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { UsageError } from './errors';
import { hashFile, readBuffer, verifyFileSignature, type FileDigest } from './file-digest';
import { messageOf } from '../../shared/error-message';

/** Files read at once (each with its own reused read buffer). */
export const READ_PARALLEL = 8;

/** {@link READ_PARALLEL} read buffers: one per worker, reused file after file. */
export const bufferPool = (): Uint8Array[] => Array.from({ length: READ_PARALLEL }, readBuffer);

/** `fn` over `items`, one worker per buffer of `pool`; results in input order. */
export async function mapWithPool<T, R>(
  items: readonly T[],
  pool: readonly Uint8Array[],
  fn: (item: T, index: number, buf: Uint8Array) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let nextIndex = 0;
  const worker = async (buf: Uint8Array): Promise<void> => {
    while (nextIndex < items.length) {
      const i = nextIndex++;
      out[i] = await fn(items[i]!, i, buf);
    }
  };
  await Promise.all(pool.slice(0, items.length).map(worker));
  return out;
}

/** Hashes `files` through `pool` (file reads wait on the disk, so several run at once). */
export function hashAll(files: readonly string[], pool: Uint8Array[]): Promise<FileDigest[]> {
  return mapWithPool(files, pool, async (f, _i, buf) => {
    try {
      return await hashFile(f, buf);
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${messageOf(e)}`);
    }
  });
}

/**
 * How many of `signatures` (in order, for `files`) verify under `publicKey` before the first
 * one that does not: only those may be written.
 */
export async function verifiedPrefix(
  files: readonly string[],
  signatures: readonly Uint8Array[],
  publicKey: KeyObject,
  pool: Uint8Array[],
): Promise<number> {
  const checks = await mapWithPool(signatures, pool, (der, i, buf) =>
    verifyFileSignature(files[i]!, publicKey, der, buf),
  );
  const bad = checks.indexOf(false);
  return bad < 0 ? checks.length : bad;
}

/**
 * Writes verified signatures off the event loop (file creation is slow on some file systems
 * and would otherwise hold up the card). The returned promise is already observed, so a
 * failure surfaces where it is awaited, never as an unhandled rejection.
 */
export function writeSignatures(
  files: ReadonlyArray<readonly [string, Uint8Array]>,
): Promise<void> {
  const p = Promise.all(
    files.map(([path, der]) =>
      writeFile(path, der).catch((e: unknown) => {
        throw new Error(`cannot write ${path}: ${messageOf(e)}`);
      }),
    ),
  ).then(() => undefined);
  p.catch(() => undefined);
  return p;
}
