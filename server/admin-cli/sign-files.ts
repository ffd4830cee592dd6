/**
 * `custodian-server sign`: hashes each file locally as a stream (SHA-256, constant memory),
 * has the unlocked target sign the hashes (`80 68 <kid> 70`, docs/card-reference.md §8.1),
 * verifies every returned signature against the key's public key over the digest it computed,
 * and writes `<file>.sig` (DER), `key.pem` (SPKI) and `manifest.json`, so
 * `openssl dgst -sha256 -verify key.pem -signature f.sig f` verifies each file. Hashing and the
 * card overlap (sign-pipeline.ts); every file is read once.
 *
 * Unlock window: the server counts every signature. A batch larger than the signatures left
 * is signed as far as allowed; the files after that are reported as NOT signed, with the
 * reason, on the progress lines, in `manifest.json` (`notSigned`) and in the exit status (2
 * for a refusal such as a locked target or an unreadable file, 1 for a failure). Audit: the
 * server writes one `signed` entry per batch listing exactly the digests it signed
 * (server/sign/sign-digests.ts).
 * @module
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import { ADMIN_API } from '../api/admin-contract';
import { api, ApiError, type ServerTarget } from './admin-client';
import { signatureCheck } from './digest-verifier';
import { UsageError, type CliIo } from './errors';
import { hashAhead } from './hash-ahead';
import { openManifestWriter, type ManifestWriter, type NotSignedEntry } from './manifest-writer';
import { SIGN_BATCH_SIZE, type SignStop } from './sign-batch';
import { runPipeline } from './sign-pipeline';

/** `GET /api/targets/:t/keys/:k` (its `type` is absent from servers before RSA support: EC). */
type KeyInfo = z.output<typeof ADMIN_API.key.response>;

/** What to sign, with which key, and where the results go. */
type SignOptions = { target: string; key: string; out: string; files: readonly string[] };

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

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

/** The signing key as the server describes it. */
function fetchKey(server: ServerTarget, opts: SignOptions): Promise<KeyInfo> {
  const path = `/api/targets/${encodeURIComponent(opts.target)}/keys/${encodeURIComponent(opts.key)}`;
  return api(server, ADMIN_API.key, path);
}

/** Signs `files` with key `key` of `target`, writing results into `outDir`. */
export async function signFiles(server: ServerTarget, opts: SignOptions, io: CliIo): Promise<void> {
  checkFiles(opts.files);
  mkdirSync(opts.out, { recursive: true });
  const key = await fetchKey(server, opts);
  const verify = signatureCheck(key);
  const entries = openManifestWriter(opts.out);
  try {
    const stop = await runPipeline({
      server,
      target: opts.target,
      keyId: key.id,
      out: opts.out,
      total: opts.files.length,
      // Two batches of digests may wait for the card: enough to fill every request.
      hashed: hashAhead(opts.files, 2 * SIGN_BATCH_SIZE),
      verify,
      entries,
      io,
    });
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
