/**
 * `custodian-server sign`: hashes each file locally (SHA-256), has the unlocked target sign
 * the hash (`80 68 <kid> 70`, reference §8.1), verifies the returned signature against the
 * key's public key, and writes `<file>.sig` (DER), `key.pem` (SPKI) and `manifest.json`, so
 * `openssl dgst -sha256 -verify key.pem -signature f.sig f` verifies each file.
 * @module
 */
import { createHash, createVerify } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { api, type ServerTarget } from './admin-client';
import { UsageError, type CliIo } from './errors';

type KeyInfo = { id: number; label?: string; chr?: string; publicKeyPem: string; deviceId: string };

/** One manifest entry. */
export type ManifestEntry = {
  file: string;
  size: number;
  sha256: string;
  signature: string;
  signedAt: string;
};

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function verifyFile(path: string, pem: string, der: Buffer): Promise<boolean> {
  const v = createVerify('sha256');
  for await (const chunk of createReadStream(path)) v.update(chunk as Buffer);
  return v.verify(pem, der);
}

/** Signs `files` with key `key` of `target`, writing results into `outDir`. */
export async function signFiles(
  server: ServerTarget,
  opts: { target: string; key: string; out: string; files: readonly string[] },
  io: CliIo,
): Promise<void> {
  if (opts.files.length === 0) throw new UsageError('no files to sign');
  const names = new Set<string>();
  for (const f of opts.files) {
    if (!existsSync(f) || !statSync(f).isFile()) throw new UsageError(`not a file: ${f}`);
    const name = basename(f);
    if (names.has(name))
      throw new UsageError(
        `two files are named ${name}; sign them into different --out directories`,
      );
    names.add(name);
  }
  mkdirSync(opts.out, { recursive: true });
  const t = encodeURIComponent(opts.target);
  const key = await api<KeyInfo>(
    server,
    'GET',
    `/api/targets/${t}/keys/${encodeURIComponent(opts.key)}`,
  );
  const entries: ManifestEntry[] = [];
  const total = opts.files.length;
  for (const [i, f] of opts.files.entries()) {
    const sha256 = await sha256File(f);
    const r = await api<{ signatures: string[] }>(server, 'POST', `/api/targets/${t}/sign`, {
      key: String(key.id),
      digests: [sha256],
    });
    const der = Buffer.from(r.signatures[0]!, 'hex');
    // A signature that does not verify is never written: the card or the key lookup is wrong.
    if (!(await verifyFile(f, key.publicKeyPem, der))) {
      throw new Error(
        `signature of ${f} does not verify with key ${key.id}; nothing written for it`,
      );
    }
    const name = basename(f);
    writeFileSync(join(opts.out, `${name}.sig`), der);
    entries.push({
      file: name,
      size: statSync(f).size,
      sha256,
      signature: `${name}.sig`,
      signedAt: new Date().toISOString(),
    });
    io.out(`[${i + 1}/${total}] ${name} signed (sha256 ${sha256.slice(0, 16)}…)\n`);
  }
  writeFileSync(join(opts.out, 'key.pem'), key.publicKeyPem);
  const manifest = {
    version: 1,
    target: { name: opts.target, deviceId: key.deviceId },
    key: { id: key.id, label: key.label ?? null, chr: key.chr ?? null, publicKey: 'key.pem' },
    algorithm: 'ECDSA with SHA-256 (DER signatures)',
    verify: 'openssl dgst -sha256 -verify key.pem -signature <file>.sig <file>',
    createdAt: new Date().toISOString(),
    files: entries,
  };
  writeFileSync(join(opts.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  io.out(
    `${total} file(s) signed; signatures, key.pem and manifest.json in ${resolve(opts.out)}\n`,
  );
}
