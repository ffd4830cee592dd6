/**
 * `custodian-server sign`: hashes each file locally as a stream (SHA-256, constant memory),
 * has the unlocked target sign the hashes in batches of {@link SIGN_BATCH_SIZE}
 * (`80 68 <kid> 70`, reference §8.1), verifies every returned signature against the key's
 * public key, and writes `<file>.sig` (DER), `key.pem` (SPKI) and `manifest.json`, so
 * `openssl dgst -sha256 -verify key.pem -signature f.sig f` verifies each file.
 *
 * The unlock window is counted per signature by the server: a batch larger than the
 * signatures left is signed as far as allowed, and the files after that are reported as not
 * signed, with the reason, on the progress lines, in `manifest.json` (`notSigned`) and in the
 * exit status (2 for a refusal such as a locked target, 1 for a failure). The server writes
 * one `signed` audit entry per batch listing the digests it signed (server/api/routes.ts).
 * While one batch is being signed the next batch's files are hashed.
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { api, ApiError, type ServerTarget } from './admin-client';
import { UsageError, type CliIo } from './errors';
import { hashFile, readBuffer, verifyFileSignature, type FileDigest } from './file-digest';
import { SIGN_BATCH_SIZE, signBatch, type SignStop } from './sign-batch';

type KeyInfo = { id: number; label?: string; chr?: string; publicKeyPem: string; deviceId: string };

/** One manifest entry. */
export type ManifestEntry = {
  file: string;
  size: number;
  sha256: string;
  signature: string;
  signedAt: string;
};

/** A file this run did not sign, and why (manifest `notSigned`). */
export type NotSignedEntry = { file: string; reason: string };

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

/** Files read at once (each with its own reused read buffer). */
const READ_PARALLEL = 8;

/** Per-worker read buffers, so a run allocates {@link READ_PARALLEL} of them, not one per file. */
const bufferPool = (): Uint8Array[] => Array.from({ length: READ_PARALLEL }, readBuffer);

/** Hashes `files` ({@link READ_PARALLEL} at a time: file reads wait on the disk, not the CPU). */
async function hashAll(files: readonly string[], pool: Uint8Array[]): Promise<FileDigest[]> {
  return mapLimited(files, pool, async (f, _i, buf) => {
    try {
      return await hashFile(f, buf);
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as Error).message}`);
    }
  });
}

function stopOf(e: unknown): SignStop {
  if (e instanceof ApiError) return { reason: e.message, status: e.status };
  if (e instanceof UsageError) return { reason: e.message, status: 400 };
  return { reason: e instanceof Error ? e.message : String(e), status: 500 };
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

/** `fn` over `items`, one worker per buffer of `pool`; results in input order. */
async function mapLimited<T, R>(
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

/**
 * Writes verified signatures off the event loop (file creation is slow on some file systems
 * and would otherwise hold up the next batch). The returned promise is already observed, so a
 * failure surfaces where it is awaited, never as an unhandled rejection.
 */
function writeSignatures(files: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
  const p = Promise.all(
    files.map(([path, der]) =>
      writeFile(path, der).catch((e: unknown) => {
        throw new Error(`cannot write ${path}: ${(e as Error).message}`);
      }),
    ),
  ).then(() => undefined);
  p.catch(() => undefined);
  return p;
}

/** Signs `files` with key `key` of `target`, writing results into `outDir`. */
export async function signFiles(
  server: ServerTarget,
  opts: { target: string; key: string; out: string; files: readonly string[] },
  io: CliIo,
): Promise<void> {
  checkFiles(opts.files);
  mkdirSync(opts.out, { recursive: true });
  const t = encodeURIComponent(opts.target);
  const key = await api<KeyInfo>(
    server,
    'GET',
    `/api/targets/${t}/keys/${encodeURIComponent(opts.key)}`,
  );
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(key.publicKeyPem);
  } catch (e) {
    throw new Error(
      `the server's public key of key ${key.id} is unreadable: ${(e as Error).message}`,
    );
  }
  const total = opts.files.length;
  const batches: string[][] = [];
  for (let i = 0; i < total; i += SIGN_BATCH_SIZE)
    batches.push(opts.files.slice(i, i + SIGN_BATCH_SIZE));

  const entries: ManifestEntry[] = [];
  let stop: SignStop | undefined;
  let writes: Promise<void> = Promise.resolve();
  // Two pools: the next batch is hashed while this one's signatures are checked.
  const pools = [bufferPool(), bufferPool()];
  let next: Promise<FileDigest[]> | undefined = hashAll(batches[0]!, pools[0]!);
  for (const [b, batch] of batches.entries()) {
    let digests: FileDigest[];
    let signatures: Uint8Array[];
    try {
      digests = await next!;
      const request = signBatch(
        server,
        opts.target,
        key.id,
        digests.map((d) => d.sha256),
      );
      // Hash the next batch while the card signs this one; a read error surfaces when awaited.
      next = b + 1 < batches.length ? hashAll(batches[b + 1]!, pools[(b + 1) % 2]!) : undefined;
      next?.catch(() => undefined);
      const r = await request;
      signatures = r.signatures;
      stop = r.stop;
    } catch (e) {
      // Nothing signed at all: the server's (or the file's) refusal as it is.
      if (entries.length === 0) throw e;
      stop = stopOf(e);
      break;
    }
    // Every signature is checked before it is written and before the next batch is asked
    // for: one that does not verify means the card or the key lookup is wrong.
    const checks = await mapLimited(signatures, pools[b % 2]!, (der, i, buf) =>
      verifyFileSignature(batch[i]!, publicKey, der, buf),
    );
    const good = checks.indexOf(false) < 0 ? checks.length : checks.indexOf(false);
    await writes; // the previous batch's files (at most one batch of writes outstanding)
    const signedAt = new Date().toISOString();
    writes = writeSignatures(
      batch.slice(0, good).map((f, i) => [join(opts.out, `${basename(f)}.sig`), signatures[i]!]),
    );
    for (const [i, f] of batch.slice(0, good).entries()) {
      const d = digests[i]!;
      const name = basename(f);
      entries.push({
        file: name,
        size: d.size,
        sha256: d.sha256,
        signature: `${name}.sig`,
        signedAt,
      });
      io.out(`[${entries.length}/${total}] ${name} signed (sha256 ${d.sha256.slice(0, 16)}…)\n`);
    }
    if (good < checks.length) {
      await writes;
      throw new Error(
        `signature of ${batch[good]!} does not verify with key ${key.id}; nothing written for it`,
      );
    }
    if (stop) break;
  }

  await writes;
  const notSigned: NotSignedEntry[] = opts.files
    .slice(entries.length)
    .map((f) => ({ file: basename(f), reason: stop?.reason ?? 'not signed' }));
  for (const [i, n] of notSigned.entries())
    io.out(`[${entries.length + i + 1}/${total}] ${n.file} NOT signed: ${n.reason}\n`);

  writeFileSync(join(opts.out, 'key.pem'), key.publicKeyPem);
  const manifest = {
    version: 1,
    target: { name: opts.target, deviceId: key.deviceId },
    key: { id: key.id, label: key.label ?? null, chr: key.chr ?? null, publicKey: 'key.pem' },
    algorithm: 'ECDSA with SHA-256 (DER signatures)',
    verify: 'openssl dgst -sha256 -verify key.pem -signature <file>.sig <file>',
    createdAt: new Date().toISOString(),
    files: entries,
    ...(notSigned.length > 0 ? { notSigned } : {}),
  };
  writeFileSync(join(opts.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (stop || notSigned.length > 0) {
    const reason = stop?.reason ?? 'not signed';
    throw new ApiError(
      stop?.status ?? 500,
      `${entries.length} of ${total} file(s) signed (written to ${resolve(opts.out)}); ` +
        `${notSigned.length} NOT signed (${listNames(notSigned.map((n) => n.file))}): ${reason}`,
      undefined,
    );
  }
  io.out(
    `${total} file(s) signed; signatures, key.pem and manifest.json in ${resolve(opts.out)}\n`,
  );
}
