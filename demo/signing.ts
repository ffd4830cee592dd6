/**
 * What the quorum is for: the unlocked target generates the release signing key with the
 * server's `target keygen` (admin API `POST /api/targets/:t/keys`; a PKA-only device has no
 * user PIN, so the quorum's unlock window is the only way to create it, docs/card-reference.md §6.7), then
 * ten files are signed through the server's sign path (`custodian-server sign`) and every
 * signature is verified independently: with @noble against the public key the server reported
 * at generation (taken from the card's own authenticated request), and with `openssl` when it
 * is on PATH.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '../server/app';
import { main as serverCli } from '../server/cli/main';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../shared/codec/bytes';
import { children, decodeTlv } from '../shared/codec/tlv';
import { curveByName, isValidPublicPoint, type Curve } from '../shared/crypto/curves';
import { derToPlain, verifyDigestPlain } from '../shared/crypto/ecdsa';
import { adminCall } from './admin';

/**
 * Label of the release signing key, and the id it gets as the first key on the freshly
 * initialized target (the card's first free key id).
 */
export const SIGNING_KEY = { id: 1, label: 'release-signer' } as const;

/** The release key as the server reported it at generation. */
export type ReleaseKey = {
  readonly id: number;
  readonly curve: Curve;
  readonly point: Uint8Array;
  readonly label: string;
  /** CHR the server chose (unique on the device). */
  readonly chr: string;
  /** The ceremony whose unlock window the key was generated in. */
  readonly ceremonyId: string;
};

/** The answer of `POST /api/targets/:t/keys`. */
type GeneratedKeyView = {
  readonly id: number;
  readonly label: string;
  readonly chr: string;
  readonly publicKeyPem: string;
  readonly curve: string;
  readonly ceremonyId: string;
};

/** The EC point of a SPKI PEM (RFC 5480: SEQUENCE { algorithm, BIT STRING 00 ‖ point }). */
function pointOfSpkiPem(pem: string, curve: Curve): Uint8Array {
  const b64 = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  const spki = decodeTlv(Uint8Array.from(Buffer.from(b64, 'base64')));
  const parts = spki.ok && spki.value.tag === 0x30 ? children(spki.value) : undefined;
  const bits = parts?.ok ? parts.value[1] : undefined;
  const point = bits?.tag === 0x03 && bits.value[0] === 0 ? bits.value.subarray(1) : undefined;
  if (!point || !isValidPublicPoint(curve, point))
    throw new Error(`the server reported a public key that is not a ${curve.name} point`);
  return point;
}

/**
 * Generates the P-256 release key on the unlocked target with the server's `target keygen`
 * (the admin API, as `custodian-server target keygen` calls it): the server generates it on
 * its own connection inside the unlock window (any other connection would re-select and drop
 * the quorum, docs/card-reference.md §6.7), restricted to signing hashes (`70`, docs/card-reference.md §8.3), labelled in
 * its PRKD, audited, and without spending a signature of the window.
 */
export async function generateReleaseKey(
  server: RunningServer,
  target: string,
): Promise<ReleaseKey> {
  const k = await adminCall<GeneratedKeyView>(
    server,
    'POST',
    `/api/targets/${encodeURIComponent(target)}/keys`,
    { label: SIGNING_KEY.label, curve: 'secp256r1' },
  );
  const curve = curveByName('secp256r1');
  if (k.curve !== curve.name || k.label !== SIGNING_KEY.label)
    throw new Error(`the server generated ${k.curve} key "${k.label}", not what was asked`);
  return {
    id: k.id,
    curve,
    point: pointOfSpkiPem(k.publicKeyPem, curve),
    label: k.label,
    chr: k.chr,
    ceremonyId: k.ceremonyId,
  };
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
