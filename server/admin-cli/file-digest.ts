/**
 * Streaming file hashing for `custodian-server sign`: every file is read once, through one
 * fixed buffer, so memory stays constant whatever the file size (no whole-file reads). Only the SHA-256 digest leaves this machine (`80 68 <kid> 70`, docs/card-reference.md §8.1).
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Read buffer size: the only per-file memory, reused for every read of one file. */
export const READ_CHUNK_BYTES = 64 * 1024;

/** A file's SHA-256 (lower-case hex) and the number of bytes hashed. */
export type FileDigest = {
  readonly sha256: string;
  readonly size: number;
  /** The bytes hashed, for a file that fit in one read ({@link READ_CHUNK_BYTES}). */
  readonly content?: Uint8Array;
};

/** A fresh read buffer for {@link hashFile}; reuse it per worker. */
export const readBuffer = (): Uint8Array => new Uint8Array(READ_CHUNK_BYTES);

/**
 * Feeds the file to `sink` through `buf`; returns its size, and its content when the whole
 * file came in one short read (a small file: kept so its signature can be checked without
 * reading it again).
 */
async function feed(
  path: string,
  sink: Hash,
  buf: Uint8Array,
): Promise<{ size: number; content: Uint8Array | undefined }> {
  const fh = await open(path, 'r');
  try {
    let size = 0;
    let content: Uint8Array | undefined;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return { size, content: size > 0 ? content : undefined };
      sink.update(buf.subarray(0, bytesRead));
      content = size === 0 && bytesRead < buf.length ? buf.slice(0, bytesRead) : undefined;
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/**
 * SHA-256 of the file at `path`, read in chunks through `buf` (one buffer reused file after
 * file keeps the garbage collector out of a long run; never shared by two calls at once).
 */
export async function hashFile(path: string, buf: Uint8Array = readBuffer()): Promise<FileDigest> {
  const h = createHash('sha256');
  const { size, content } = await feed(path, h, buf);
  return { sha256: h.digest('hex'), size, ...(content === undefined ? {} : { content }) };
}
