/**
 * Hashing ahead of the card for `custodian-server sign` (issue 12 §4): files are hashed in the
 * background, several at once (reads wait on the disk), and handed out in file order in
 * batches that close at a file count or a byte count, so a batch of large files goes to the
 * card after its first file while later files are still being read. Each file is read exactly
 * once; a bounded number of digests (with the bytes of files that fit in one read, at most
 * 64 KiB each) waits ahead of the card, and each worker reuses one read buffer, so memory
 * stays constant over any number of files.
 * @module
 */
import { statSync } from 'node:fs';
import { UsageError } from './errors';
import { hashFile, readBuffer, type FileDigest } from './file-digest';
import { messageOf } from '../../shared/error-message';

/** Files read at once at most (each with its own reused read buffer). */
export const READ_PARALLEL = 8;

/**
 * Bytes of files being read at once, beyond the first: small files are read several at once
 * (their reads wait on the disk), large ones one after the other, so the first large file is
 * hashed, and can go to the card, after its own read instead of after eight interleaved ones.
 */
const READ_PARALLEL_BYTES = 8 << 20;

/** A file and its digest. */
export type Hashed = { readonly file: string; readonly digest: FileDigest };

/** Files being hashed ahead, handed out in order. */
export type HashAhead = {
  /**
   * The next batch, in file order: files are added as each is hashed until the batch holds
   * `maxFiles` files or at least `maxBytes` bytes, or no file is left (`[]` once every file was
   * handed out). Batches depend only on the files, never on timing. Rejects with the read error
   * (a {@link UsageError} naming the file) when a file of the batch cannot be read; the batch
   * is then dropped. One call at a time.
   */
  next(maxFiles: number, maxBytes: number): Promise<Hashed[]>;
  /** Stops starting new reads (the run has stopped). */
  close(): void;
};

/** The file's size for pacing reads (0 when it cannot be read: its read reports why). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

type Slot = { readonly digest: FileDigest } | { readonly error: unknown };

/**
 * Starts hashing `files` (at most {@link READ_PARALLEL} at once, at most `ahead` digests
 * waiting to be handed out). `hash` is the file hasher (tests count its reads).
 */
export function hashAhead(
  files: readonly string[],
  ahead: number,
  hash: (path: string, buf: Uint8Array) => Promise<FileDigest> = hashFile,
): HashAhead {
  const done = new Map<number, Slot>();
  const buffers = Array.from({ length: READ_PARALLEL }, readBuffer);
  let started = 0;
  let handedOut = 0;
  let readingBytes = 0;
  let closed = false;
  let wake: (() => void) | undefined;

  const startOne = (i: number, buf: Uint8Array, size: number): void => {
    readingBytes += size;
    void hash(files[i]!, buf)
      .then(
        (digest): Slot => ({ digest }),
        (e: unknown): Slot => ({
          error: new UsageError(`cannot read ${files[i]}: ${messageOf(e)}`),
        }),
      )
      .then((slot) => {
        done.set(i, slot);
        buffers.push(buf);
        readingBytes -= size;
        pump();
        wake?.();
      });
  };
  /** Starts reads while a buffer is free and the window ahead of the card has room. */
  const pump = (): void => {
    while (!closed && started < files.length && started < handedOut + ahead) {
      const size = sizeOf(files[started]!);
      const reading = buffers.length < READ_PARALLEL;
      if (reading && readingBytes + size > READ_PARALLEL_BYTES) return;
      const buf = buffers.pop();
      if (buf === undefined) return;
      startOne(started++, buf, size);
    }
  };
  pump();

  /** The slot of file `i`, waiting until it is hashed. */
  const slotOf = async (i: number): Promise<Slot> => {
    for (;;) {
      const slot = done.get(i);
      if (slot !== undefined) return slot;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };

  return {
    async next(maxFiles, maxBytes) {
      const out: Hashed[] = [];
      let bytes = 0;
      while (out.length < maxFiles && bytes < maxBytes && handedOut < files.length) {
        const slot = await slotOf(handedOut);
        if ('error' in slot) throw slot.error;
        out.push({ file: files[handedOut]!, digest: slot.digest });
        bytes += slot.digest.size;
        done.delete(handedOut++);
        pump();
      }
      return out;
    },
    close() {
      closed = true;
    },
  };
}
