/**
 * The signing pipeline of `custodian-server sign` (issue 12 §4): hashing, the card's SIGNs and
 * checking overlap, so a run takes about as long as the slower of hashing and the card.
 *
 * - Files are hashed ahead (hash-ahead.ts). A batch request holds {@link SIGN_BATCH_SIZE}
 *   digests, or fewer when its files already add up to {@link SIGN_BATCH_BYTES}: large files
 *   go to the card one by one as they are hashed, while later files are still being read.
 *   Batches depend only on the files (count and sizes), so requests and audit are
 *   reproducible.
 * - Each signature is checked against what the CLI hashed (digest-verifier.ts): the digest,
 *   or a small file's bytes kept from its one read. No file is read twice; no signature is
 *   ever written unverified.
 * - The run's first signature is verified before anything more is asked for (a wrong key
 *   costs at most one batch); after that, batch k is verified while batch k+1 is being signed,
 *   so a card that starts producing bad signatures costs at most one more batch of the window
 *   (signed and audited by the server, discarded here).
 * - Results are recorded strictly in file order; a stop (window ended, refusal, unreadable
 *   file) keeps everything signed before it and leaves the rest to be reported as NOT signed.
 * @module
 */
import { basename, join } from 'node:path';
import { ApiError, type ServerTarget } from './admin-client';
import type { SignatureCheck } from './digest-verifier';
import { UsageError, type CliIo } from './errors';
import type { HashAhead, Hashed } from './hash-ahead';
import type { ManifestWriter } from './manifest-writer';
import { SIGN_BATCH_SIZE, signBatch, type BatchResult, type SignStop } from './sign-batch';
import { writeSignatures } from './sign-io';
import { messageOf } from '../../shared/error-message';

/**
 * Bytes of file content after which a batch goes to the card without waiting for more files.
 * Hashing 1 MiB takes a few milliseconds, less than one card SIGN (~60 ms), so small files
 * still fill whole batches, while a batch never waits on hashing much longer than the card
 * needs for one signature.
 */
export const SIGN_BATCH_BYTES = 1 << 20;

/** What one run needs. */
export type Pipeline = {
  readonly server: ServerTarget;
  readonly target: string;
  readonly keyId: number;
  readonly out: string;
  readonly total: number;
  readonly hashed: HashAhead;
  readonly verify: SignatureCheck;
  readonly entries: ManifestWriter;
  readonly io: CliIo;
};

/** A batch whose digests have gone to the server. */
type InFlight = { readonly batch: readonly Hashed[]; readonly result: Promise<BatchResult> };

/**
 * Signs every file `p.hashed` hands out, recording each verified signature in order. Returns
 * why it stopped early, or undefined when every file was signed. Throws when nothing at all
 * could be signed (the server's refusal or the read error as it is) and when a signature does
 * not verify.
 */
export async function runPipeline(p: Pipeline): Promise<SignStop | undefined> {
  let writes: Promise<void> = Promise.resolve();
  try {
    let current = await sendNext(p);
    let keyChecked = false;
    while (current !== undefined) {
      const result = await settle(p, current);
      if ('stop' in result && result.signatures.length === 0) return result.stop;
      // The key is checked with the run's first signature; from then on the card starts on the
      // next batch while this one is checked.
      if (!keyChecked && !(await p.verify(current.batch[0]!.digest, result.signatures[0]!))) {
        throw await badSignature(p, current.batch[0]!, undefined);
      }
      keyChecked = true;
      const ahead = result.stop ? undefined : observe(sendNext(p));
      const good = current.batch.slice(
        0,
        await firstBad(p.verify, current.batch, result.signatures),
      );
      await writes; // the previous batch's files (at most one batch of writes outstanding)
      writes = record(p, good, result.signatures);
      if (good.length < result.signatures.length) {
        await writes;
        throw await badSignature(p, current.batch[good.length]!, ahead);
      }
      if (result.stop) return result.stop;
      try {
        current = await (ahead ?? sendNext(p));
      } catch (e) {
        return stopOf(e);
      }
    }
    return undefined;
  } finally {
    p.hashed.close();
    await writes;
  }
}

/** Takes the next batch of hashed files (waiting for their hashes) and sends its digests. */
async function sendNext(p: Pipeline): Promise<InFlight | undefined> {
  const batch = await p.hashed.next(SIGN_BATCH_SIZE, SIGN_BATCH_BYTES);
  if (batch.length === 0) return undefined;
  const digests = batch.map((h) => h.digest.sha256);
  return { batch, result: observe(signBatch(p.server, p.target, p.keyId, digests)) };
}

/**
 * The batch's result; a refusal is a stop once something was signed, and thrown as it is
 * before that (nothing signed at all: the server's refusal is the answer).
 */
async function settle(p: Pipeline, f: InFlight): Promise<BatchResult> {
  try {
    return await f.result;
  } catch (e) {
    if (p.entries.count === 0) throw e;
    return { signatures: [], stop: stopOf(e) };
  }
}

/** Index of the first signature that does not verify over its file's digest (or the count). */
async function firstBad(
  verify: SignatureCheck,
  batch: readonly Hashed[],
  signatures: readonly Uint8Array[],
): Promise<number> {
  const checks = await Promise.all(signatures.map((der, i) => verify(batch[i]!.digest, der)));
  const bad = checks.indexOf(false);
  return bad < 0 ? signatures.length : bad;
}

/** Writes the verified files' `.sig` (off the event loop) and adds their manifest entries. */
function record(p: Pipeline, good: readonly Hashed[], signatures: readonly Uint8Array[]) {
  const signedAt = new Date().toISOString();
  const writes = writeSignatures(
    good.map((h, i) => [join(p.out, `${basename(h.file)}.sig`), signatures[i]!]),
  );
  for (const { file, digest } of good) {
    const name = basename(file);
    p.entries.add({
      file: name,
      size: digest.size,
      sha256: digest.sha256,
      signature: `${name}.sig`,
      signedAt,
    });
    p.io.out(
      `[${p.entries.count}/${p.total}] ${name} signed (sha256 ${digest.sha256.slice(0, 16)}…)\n`,
    );
  }
  return writes;
}

/** The error for a signature that does not verify, counting the next batch's discarded ones. */
async function badSignature(
  p: Pipeline,
  bad: Hashed,
  ahead: Promise<InFlight | undefined> | undefined,
): Promise<Error> {
  const next = ahead && (await ahead.catch(() => undefined));
  const wasted = next
    ? await next.result.then(
        (x) => x.signatures.length,
        () => 0,
      )
    : 0;
  return new Error(
    `signature of ${bad.file} does not verify with key ${p.keyId}; nothing written for it` +
      (wasted > 0 ? ` (${wasted} signature(s) of the next batch discarded unwritten)` : ''),
  );
}

/** Why signing stopped, from a refusal or an unreadable file. */
export function stopOf(e: unknown): SignStop {
  if (e instanceof ApiError) return { reason: e.message, status: e.status };
  if (e instanceof UsageError) return { reason: e.message, status: 400 };
  return { reason: messageOf(e), status: 500 };
}

/** `p`, with its rejection marked as handled here (it is awaited later, or dropped on a stop). */
function observe<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
