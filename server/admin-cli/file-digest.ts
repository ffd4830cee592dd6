/**
 * Streaming file hashing and signature checks for `custodian-server sign`: every file is read
 * through one fixed buffer, so memory stays constant whatever the file size (no whole-file
 * reads). Only the SHA-256 digest leaves this machine (`80 68 <kid> 70`, docs/card-reference.md §8.1).
 * @module
 */
import {
  createHash,
  createVerify,
  verify as verifyOneShot,
  type Hash,
  type KeyObject,
} from 'node:crypto';
import { open } from 'node:fs/promises';

/** Read buffer size: the only per-file memory, reused for every read of one file. */
export const READ_CHUNK_BYTES = 64 * 1024;

/** A file's SHA-256 (lower-case hex) and the number of bytes hashed. */
export type FileDigest = { readonly sha256: string; readonly size: number };

/** A fresh read buffer for {@link hashFile} / {@link verifyFileSignature}; reuse it per worker. */
export const readBuffer = (): Uint8Array => new Uint8Array(READ_CHUNK_BYTES);

async function feed(path: string, sink: Hash, buf: Uint8Array): Promise<number> {
  const fh = await open(path, 'r');
  try {
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return size;
      sink.update(buf.subarray(0, bytesRead));
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
  const size = await feed(path, h, buf);
  return { sha256: h.digest('hex'), size };
}

function verifyOffThread(data: Uint8Array, key: KeyObject, der: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      // With a callback Node verifies on its thread pool, not on the event loop.
      verifyOneShot('sha256', data, key, der, (e, ok) => resolve(e === null && ok));
    } catch {
      resolve(false);
    }
  });
}

/**
 * True when `der` is a valid ECDSA/SHA-256 (or RSA PKCS#1 v1.5/SHA-256) signature of the file's current content under
 * `publicKey`: the check `openssl dgst -sha256 -verify` will make later. Pass a KeyObject
 * parsed once (`createPublicKey(pem)`): parsing the PEM per file costs more than verifying.
 * A file that fits in one read chunk is verified off the event loop; a larger one is streamed.
 * `buf` as for {@link hashFile}.
 */
export async function verifyFileSignature(
  path: string,
  publicKey: KeyObject,
  der: Uint8Array,
  buf: Uint8Array = readBuffer(),
): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    let { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead < buf.length)
      return await verifyOffThread(buf.subarray(0, bytesRead), publicKey, der);
    const v = createVerify('sha256');
    while (bytesRead > 0) {
      v.update(buf.subarray(0, bytesRead));
      ({ bytesRead } = await fh.read(buf, 0, buf.length, null));
    }
    try {
      return v.verify(publicKey, der);
    } catch {
      // A malformed DER blob is a signature that does not verify, never a crash.
      return false;
    }
  } finally {
    await fh.close();
  }
}
