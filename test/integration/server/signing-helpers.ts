/**
 * Helpers for tests that drive a running test server with the admin CLI and check detached
 * signatures with the real openssl CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../../server/app';
import { main } from '../../../server/cli/main';

/** Runs `custodian-server <args>` in-process against `server`; output captured, never thrown. */
export async function adminCli(
  server: RunningServer,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    [...args, '--server', server.url, '--admin-token', server.adminToken],
    {},
    { out: (t) => void (out += t), err: (t) => void (err += t) },
  );
  return { code, out, err };
}

/** `n` files of different sizes in a fresh directory. */
export function filesToSign(n: number): { dir: string; paths: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'to-sign-'));
  const paths = Array.from({ length: n }, (_, i) => {
    const p = join(dir, `file-${i}.bin`);
    writeFileSync(p, `release artefact ${i}\n`.repeat(100 * (i + 1)));
    return p;
  });
  return { dir, paths };
}

/** `openssl dgst -sha256 -verify`: returns its output, throws when the signature is bad. */
export const opensslVerify = (key: string, sig: string, file: string): string =>
  execFileSync('openssl', ['dgst', '-sha256', '-verify', key, '-signature', sig, file], {
    encoding: 'utf8',
    stdio: 'pipe',
  });
