/**
 * What the quorum is for: the unlocked target generates the release signing key (a PKA-only
 * device has no user PIN, so this is the only way to create it, reference §6.7), then ten files
 * are signed through the server's sign path (`custodian-server sign`) and every signature is
 * verified independently: with @noble against the key from the card's own authenticated
 * request, and with `openssl` when it is on PATH.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '../server/app';
import { main as serverCli } from '../server/cli/main';
import { sha256 } from '@noble/hashes/sha2.js';
import { asciiBytes, toHex } from '../shared/codec/bytes';
import { curveByDomain, curveByName, type Curve } from '../shared/crypto/curves';
import { derToPlain, verifyDigestPlain } from '../shared/crypto/ecdsa';
import { parseAuthenticatedRequest } from '../shared/cvc/cvc';
import { unwrap } from '../shared/result';
import { ALGO, PREFIX } from '../shared/sc-hsm/constants';
import { objectFid, updateBinaryCommands } from '../shared/sc-hsm/files';
import { generateEcKeyCommand, parseGenerateKeyResponse } from '../shared/sc-hsm/keygen';
import { encodePrkd } from '../shared/sc-hsm/prkd';

/** Id and label of the release signing key generated on the target. */
export const SIGNING_KEY = { id: 1, label: 'release-signer', chr: 'DEMOSIGN00001' } as const;

/** The release key as the card reported it at generation. */
export type ReleaseKey = { readonly id: number; readonly curve: Curve; readonly point: Uint8Array };

/**
 * Generates the P-256 release key on the unlocked target over the server's own connection
 * (any other connection would re-select and drop the quorum, reference §6.7). The key may only
 * sign hashes (`91` = ECDSA prehashed, reference §8.3); its PRKD carries the label.
 */
export async function generateReleaseKey(
  server: RunningServer,
  target: string,
): Promise<ReleaseKey> {
  const t = server.targets.get(target);
  if (!t) throw new Error(`server has no target ${target}`);
  return t.run(async (card) => {
    const cmd = unwrap(
      generateEcKeyCommand({
        keyId: SIGNING_KEY.id,
        curve: 'secp256r1',
        chr: asciiBytes(SIGNING_KEY.chr),
        algorithms: [ALGO.ECDSA_PREHASHED],
      }),
    );
    const r = await card.channel.send(cmd);
    if (r.sw !== 0x9000)
      throw new Error(`key generation refused: SW ${r.sw.toString(16).toUpperCase()}`);
    const request = unwrap(parseAuthenticatedRequest(unwrap(parseGenerateKeyResponse(r.data))));
    const pk = request.inner.body.publicKey;
    const curve = pk.domain ? curveByDomain(pk.domain) : curveByName('secp256r1');
    if (!curve || !pk.point) throw new Error('the card returned a key without curve or point');
    const prkd = encodePrkd({
      label: SIGNING_KEY.label,
      id: Uint8Array.of(SIGNING_KEY.id),
      size: 256,
    });
    for (const c of unwrap(updateBinaryCommands(objectFid(PREFIX.PRKD, SIGNING_KEY.id), prkd))) {
      const w = await card.channel.send(c);
      if (w.sw !== 0x9000)
        throw new Error(`PRKD write refused: SW ${w.sw.toString(16).toUpperCase()}`);
    }
    return { id: SIGNING_KEY.id, curve, point: pk.point };
  });
}

/** Writes `count` sample files (deterministic content) into `dir`. */
export function writeSampleFiles(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const path = join(dir, `release-${String(i + 1).padStart(2, '0')}.txt`);
    writeFileSync(path, `Custodian demo release artefact ${i + 1}\n`.repeat(64 * (i + 1)));
    return path;
  });
}

/**
 * Signs `files` with the admin CLI's `sign` command against the running server (the same code
 * path as `custodian-server sign`). Returns the CLI's output lines.
 */
export async function signWithServer(
  server: RunningServer,
  target: string,
  files: readonly string[],
  out: string,
): Promise<string[]> {
  let stdout = '';
  let stderr = '';
  const code = await serverCli(
    [
      'sign',
      '--target',
      target,
      '--key',
      SIGNING_KEY.label,
      '--out',
      out,
      '--server',
      server.url,
      '--admin-token',
      server.adminToken,
      ...files,
    ],
    {},
    { out: (t) => void (stdout += t), err: (t) => void (stderr += t) },
  );
  if (code !== 0)
    throw new Error(`custodian-server sign exited ${code}: ${stderr.trim() || stdout.trim()}`);
  return stdout.trim().split('\n');
}

/** How one file's signature was checked. */
export type FileVerification = {
  readonly file: string;
  readonly sha256: string;
  /** @noble: DER → r‖s, verified over SHA-256(file) with the key the card generated. */
  readonly noble: boolean;
  /** `openssl dgst -sha256 -verify key.pem`; undefined when openssl is not on PATH. */
  readonly openssl: boolean | undefined;
};

/** True when `openssl` can be run. */
export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Verifies `<out>/<name>.sig` for every file, with @noble and (if present) openssl. */
export function verifySignatures(
  files: readonly string[],
  out: string,
  key: ReleaseKey,
  openssl: boolean,
): FileVerification[] {
  const pem = join(out, 'key.pem');
  return files.map((file) => {
    const name = file.slice(file.lastIndexOf('/') + 1);
    const sigPath = join(out, `${name}.sig`);
    const digest = sha256(new Uint8Array(readFileSync(file)));
    const der = new Uint8Array(readFileSync(sigPath));
    const plain = derToPlain(der, key.curve.orderBytes);
    const noble = plain.ok && verifyDigestPlain(key.curve, key.point, digest, plain.value);
    let viaOpenssl: boolean | undefined;
    if (openssl) {
      try {
        const text = execFileSync(
          'openssl',
          ['dgst', '-sha256', '-verify', pem, '-signature', sigPath, file],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        viaOpenssl = text.includes('Verified OK');
      } catch {
        viaOpenssl = false;
      }
    }
    return { file: name, sha256: toHex(digest), noble, openssl: viaOpenssl };
  });
}
