/**
 * `custodian-server sign`: hashes each file locally as a stream (SHA-256, constant memory),
 * has the unlocked target sign the hashes in batches of {@link SIGN_BATCH_SIZE}
 * (`80 68 <kid> 70`, docs/card-reference.md §8.1), verifies every returned signature against the key's
 * public key, and writes `<file>.sig` (DER), `key.pem` (SPKI) and `manifest.json`, so
 * `openssl dgst -sha256 -verify key.pem -signature f.sig f` verifies each file.
 *
 * Unlock window: the server counts every signature. A batch larger than the signatures left
 * is signed as far as allowed; the files after that are reported as NOT signed, with the
 * reason, on the progress lines, in `manifest.json` (`notSigned`) and in the exit status (2
 * for a refusal such as a locked target, 1 for a failure). Audit: the server writes one
 * `signed` entry per batch listing exactly the digests it signed (server/api/routes.ts).
 *
 * Pipeline: the next batch's files are hashed while the card signs. No signature is ever
 * written unverified; the first batch is verified completely before anything more is asked
 * for (a wrong key costs at most one batch), after that batch k is verified while batch k+1
 * is being signed, so a card that starts producing bad signatures costs at most one more
 * batch of the window (signed and audited by the server, discarded here).
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import { ADMIN_API } from '../api/admin-contract';
import { api, ApiError, type ServerTarget } from './admin-client';
import { UsageError, type CliIo } from './errors';
import type { FileDigest } from './file-digest';
import { openManifestWriter, type ManifestWriter, type NotSignedEntry } from './manifest-writer';
import { SIGN_BATCH_SIZE, signBatch, type BatchResult, type SignStop } from './sign-batch';
import { bufferPool, hashAll, verifiedPrefix, writeSignatures } from './sign-io';
import { messageOf } from '../../shared/error-message';

/** `GET /api/targets/:t/keys/:k` (its `type` is absent from servers before RSA support: EC). */
type KeyInfo = z.output<typeof ADMIN_API.key.response>;

/** A batch whose digests have gone to the server. */
type InFlight = {
  readonly files: readonly string[];
  readonly digests: readonly FileDigest[];
  readonly result: Promise<BatchResult>;
};

/** Checks the file list before anything is signed: every path a file, no two with one name. */
function checkFiles(files: readonly string[]): void {
  if (files.length === 0) throw new UsageError('no files to sign');
  const names = new Set<string>();
  for (const f of files) {
    if (!existsSync(f) || !statSync(f).isFile()) throw new UsageError(`not a file: ${f}`);
    const name = basename(f);
    if (names.has(name))
      throw new UsageError(
        `two files are named ${name}; sign them into different --out directories`,
      );
    names.add(name);
  }
}

function stopOf(e: unknown): SignStop {
  if (e instanceof ApiError) return { reason: e.message, status: e.status };
  if (e instanceof UsageError) return { reason: e.message, status: 400 };
  return { reason: messageOf(e), status: 500 };
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

function parseKey(key: KeyInfo): KeyObject {
  try {
    return createPublicKey(key.publicKeyPem);
  } catch (e) {
    throw new Error(`the public key of key ${key.id} is unreadable: ${messageOf(e)}`);
  }
}

/** Signs `files` with key `key` of `target`, writing results into `outDir`. */
export async function signFiles(
  server: ServerTarget,
  opts: { target: string; key: string; out: string; files: readonly string[] },
  io: CliIo,
): Promise<void> {
  checkFiles(opts.files);
  mkdirSync(opts.out, { recursive: true });
  const key: KeyInfo = await api(
    server,
    ADMIN_API.key,
    `/api/targets/${encodeURIComponent(opts.target)}/keys/${encodeURIComponent(opts.key)}`,
  );
  const publicKey = parseKey(key);
  const total = opts.files.length;
  const batches: string[][] = [];
  for (let i = 0; i < total; i += SIGN_BATCH_SIZE)
    batches.push(opts.files.slice(i, i + SIGN_BATCH_SIZE));

  const hashPool = bufferPool();
  const verifyPool = bufferPool();
  let next: Promise<FileDigest[]> | undefined = hashAll(batches[0]!, hashPool);
  /** Sends batch `b` (hashed ahead) and starts hashing batch b+1. */
  const send = async (b: number): Promise<InFlight> => {
    const digests = await next!;
    const result = signBatch(
      server,
      opts.target,
      key.id,
      digests.map((d) => d.sha256),
    );
    result.catch(() => undefined); // observed here, awaited by the loop
    next = b + 1 < batches.length ? hashAll(batches[b + 1]!, hashPool) : undefined;
    next?.catch(() => undefined);
    return { files: batches[b]!, digests, result };
  };

  const entries = openManifestWriter(opts.out);
  try {
    let stop: SignStop | undefined;
    let writes: Promise<void> = Promise.resolve();
    let current: InFlight | undefined = await send(0);
    for (let b = 0; current !== undefined; b++) {
      let r: BatchResult;
      try {
        r = await current.result;
      } catch (e) {
        // Nothing signed at all: the server's refusal as it is.
        if (entries.count === 0) throw e;
        stop = stopOf(e);
        break;
      }
      stop = r.stop;
      let ahead: InFlight | undefined;
      let aheadError: unknown;
      const more = stop === undefined && b + 1 < batches.length;
      // After a fully verified batch the key is known good: ask for the next batch now.
      if (more && entries.count > 0) {
        try {
          ahead = await send(b + 1);
        } catch (e) {
          aheadError = e;
        }
      }
      const good = await verifiedPrefix(current.files, r.signatures, publicKey, verifyPool);
      await writes; // the previous batch's files (at most one batch of writes outstanding)
      const signedAt = new Date().toISOString();
      const signed = current.files.slice(0, good);
      writes = writeSignatures(
        signed.map((f, i) => [join(opts.out, `${basename(f)}.sig`), r.signatures[i]!]),
      );
      for (const [i, f] of signed.entries()) {
        const d = current.digests[i]!;
        const name = basename(f);
        entries.add({
          file: name,
          size: d.size,
          sha256: d.sha256,
          signature: `${name}.sig`,
          signedAt,
        });
        io.out(`[${entries.count}/${total}] ${name} signed (sha256 ${d.sha256.slice(0, 16)}…)\n`);
      }
      if (good < r.signatures.length) {
        await writes;
        const wasted = ahead
          ? await ahead.result.then(
              (x) => x.signatures.length,
              () => 0,
            )
          : 0;
        throw new Error(
          `signature of ${current.files[good]!} does not verify with key ${key.id}; nothing written for it` +
            (wasted > 0 ? ` (${wasted} signature(s) of the next batch discarded unwritten)` : ''),
        );
      }
      if (stop) break;
      if (aheadError !== undefined) {
        stop = stopOf(aheadError);
        break;
      }
      if (ahead === undefined && more) {
        try {
          ahead = await send(b + 1);
        } catch (e) {
          stop = stopOf(e);
          break;
        }
      }
      current = ahead;
    }
    await writes;
    writeOutputs(opts, key, entries, stop, io);
  } catch (e) {
    entries.discard(); // no-op once the manifest is written
    throw e;
  }
}

/** Writes `key.pem` and `manifest.json`, reports files left unsigned, and ends the command. */
function writeOutputs(
  opts: { target: string; out: string; files: readonly string[] },
  key: KeyInfo,
  entries: ManifestWriter,
  stop: SignStop | undefined,
  io: CliIo,
): void {
  const total = opts.files.length;
  const notSigned: NotSignedEntry[] = opts.files
    .slice(entries.count)
    .map((f) => ({ file: basename(f), reason: stop?.reason ?? 'not signed' }));
  for (const [i, n] of notSigned.entries())
    io.out(`[${entries.count + i + 1}/${total}] ${n.file} NOT signed: ${n.reason}\n`);

  writeFileSync(join(opts.out, 'key.pem'), key.publicKeyPem);
  entries.finish(
    {
      version: 1,
      target: { name: opts.target, deviceId: key.deviceId },
      key: { id: key.id, label: key.label ?? null, chr: key.chr ?? null, publicKey: 'key.pem' },
      algorithm:
        key.type === 'rsa' ? 'RSA PKCS#1 v1.5 with SHA-256' : 'ECDSA with SHA-256 (DER signatures)',
      verify: 'openssl dgst -sha256 -verify key.pem -signature <file>.sig <file>',
      createdAt: new Date().toISOString(),
    },
    notSigned,
  );
  if (notSigned.length > 0) {
    throw new ApiError(
      stop?.status ?? 500,
      `${entries.count} of ${total} file(s) signed (written to ${resolve(opts.out)}); ` +
        `${notSigned.length} NOT signed (${listNames(notSigned.map((n) => n.file))}): ${stop?.reason ?? 'not signed'}`,
      undefined,
    );
  }
  io.out(
    `${total} file(s) signed; signatures, key.pem and manifest.json in ${resolve(opts.out)}\n`,
  );
}
