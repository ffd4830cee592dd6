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
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { api, ApiError, type ServerTarget } from './admin-client';
import { UsageError, type CliIo } from './errors';
import { hashFile, verifyFileSignature, type FileDigest } from './file-digest';
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

async function hashAll(files: readonly string[]): Promise<FileDigest[]> {
  const out: FileDigest[] = [];
  for (const f of files) {
    try {
      out.push(await hashFile(f));
    } catch (e) {
      throw new UsageError(`cannot read ${f}: ${(e as Error).message}`);
    }
  }
  return out;
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
  const total = opts.files.length;
  const batches: string[][] = [];
  for (let i = 0; i < total; i += SIGN_BATCH_SIZE)
    batches.push(opts.files.slice(i, i + SIGN_BATCH_SIZE));

  const entries: ManifestEntry[] = [];
  let stop: SignStop | undefined;
  let next: Promise<FileDigest[]> | undefined = hashAll(batches[0]!);
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
      next = b + 1 < batches.length ? hashAll(batches[b + 1]!) : undefined;
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
    for (const [i, der] of signatures.entries()) {
      const f = batch[i]!;
      const d = digests[i]!;
      // A signature that does not verify is never written: the card or the key lookup is wrong.
      if (!(await verifyFileSignature(f, key.publicKeyPem, der))) {
        throw new Error(
          `signature of ${f} does not verify with key ${key.id}; nothing written for it`,
        );
      }
      const name = basename(f);
      writeFileSync(join(opts.out, `${name}.sig`), der);
      entries.push({
        file: name,
        size: d.size,
        sha256: d.sha256,
        signature: `${name}.sig`,
        signedAt: new Date().toISOString(),
      });
      io.out(`[${entries.length}/${total}] ${name} signed (sha256 ${d.sha256.slice(0, 16)}…)\n`);
    }
    if (stop) break;
  }

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
