/**
 * Streaming file hashing and signature checks for `custodian-server sign`: every file is read
 * through one fixed buffer, so memory stays constant whatever the file size (no whole-file
 * reads). Only the SHA-256 digest leaves this machine (`80 68 <kid> 70`, reference §8.1).
 * @module
 */
import { createHash, createVerify, type Hash, type Verify } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Read buffer size: the only per-file memory, reused for every read of one file. */
export const READ_CHUNK_BYTES = 64 * 1024;

/** A file's SHA-256 (lower-case hex) and the number of bytes hashed. */
export type FileDigest = { readonly sha256: string; readonly size: number };

async function feed(path: string, sink: Hash | Verify): Promise<number> {
  const buf = new Uint8Array(READ_CHUNK_BYTES);
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

/** SHA-256 of the file at `path`, read in {@link READ_CHUNK_BYTES} chunks. */
export async function hashFile(path: string): Promise<FileDigest> {
  const h = createHash('sha256');
  const size = await feed(path, h);
  return { sha256: h.digest('hex'), size };
}

/**
 * True when `der` is a valid ECDSA/SHA-256 signature of the file's current content under the
 * SPKI `publicKeyPem`: the check `openssl dgst -sha256 -verify` will make later.
 */
export async function verifyFileSignature(
  path: string,
  publicKeyPem: string,
  der: Uint8Array,
): Promise<boolean> {
  const v = createVerify('sha256');
  await feed(path, v);
  try {
    return v.verify(publicKeyPem, der);
  } catch {
    // A malformed DER blob or key is a signature that does not verify, never a crash.
    return false;
  }
}
