/**
 * Signing a U-Boot FIT image with mkimage through the module, and the independent proof:
 * the same FIT signed again by mkimage with the same private key as a PEM in a keydir
 * (exported from the emulator's state, in tests and the demo only), SOURCE_DATE_EPOCH fixed,
 * the configuration signatures compared byte for byte (PKCS#1 v1.5 is deterministic), and the
 * public key mkimage wrote into control.dtb compared with the target's key. Used by
 * `npm run demo -- --mkimage` and test/integration/pkcs11/mkimage.test.ts.
 * @module
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

/** Result of a tool run. */
export type Ran = { code: number | null; out: string; err: string };

/** Runs a tool to completion without blocking the event loop (the server may be in-process). */
export function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: { ms?: number; cwd?: string } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(cmd, [...args], {
      env: { ...process.env, ...env },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.ms ?? 600_000);
    p.on('error', (e) => resolve({ code: -1, out, err: `${err}${e.message}` }));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** The key name (key-name-hint) is the key's CKA_LABEL on the token. */
export function fitSource(keyName: string): string {
  return `/dts-v1/;
/ {
  description = "Custodian FIT signed through PKCS#11";
  #address-cells = <1>;
  images {
    kernel-1 {
      description = "kernel";
      data = /incbin/("kernel.bin");
      type = "kernel";
      arch = "arm";
      os = "linux";
      compression = "none";
      load = <0x80008000>;
      entry = <0x80008000>;
      hash-1 { algo = "sha256"; };
    };
  };
  configurations {
    default = "conf-1";
    conf-1 {
      description = "signed kernel";
      kernel = "kernel-1";
      signature-1 {
        algo = "sha256,rsa2048";
        key-name-hint = "${keyName}";
        sign-images = "kernel";
      };
    };
  };
};
`;
}

/** A work directory with kernel.bin, fit.its and an empty control.dts/dtb pair. */
export async function fitWorkdir(keyName: string, parent = tmpdir()): Promise<string> {
  const dir = mkdtempSync(join(parent, 'fit-'));
  writeFileSync(
    join(dir, 'kernel.bin'),
    Buffer.from('kernel image for the FIT test\n'.repeat(2048)),
  );
  writeFileSync(join(dir, 'fit.its'), fitSource(keyName));
  writeFileSync(join(dir, 'control.dts'), '/dts-v1/;\n/ {\n  model = "custodian-test";\n};\n');
  for (const out of ['control.dtb', 'control-pem.dtb']) {
    const r = await run(
      'dtc',
      ['-I', 'dts', '-O', 'dtb', '-o', join(dir, out), join(dir, 'control.dts')],
      {},
    );
    if (r.code !== 0) throw new Error(`dtc: ${r.err}`);
  }
  return dir;
}

/** SOURCE_DATE_EPOCH for both signings: the signature node's timestamp is signed too. */
export const EPOCH = '1767225600';

/**
 * mkimage through the libp11 engine and the module: `-N pkcs11 -k <URI> -K control.dtb -r`.
 * mkimage (2023.01) writes the `pkcs11:` scheme itself and appends `;object=<key-name-hint>;
 * type=private|public`, so `-k` carries the URI's path attributes: `token=t1`.
 */
export function mkimagePkcs11(
  dir: string,
  module: string,
  env: NodeJS.ProcessEnv,
  token = 't1',
): Promise<Ran> {
  return run(
    'mkimage',
    ['-f', 'fit.its', '-N', 'pkcs11', '-k', `token=${token}`, '-K', 'control.dtb', '-r', 'fit.itb'],
    { ...env, PKCS11_MODULE_PATH: module, SOURCE_DATE_EPOCH: EPOCH },
    { cwd: dir },
  );
}

/** mkimage with the private key as PEM in a keydir (the reference signing). */
export async function mkimagePem(dir: string, keyName: string, pkcs8: Uint8Array): Promise<Ran> {
  const keydir = join(dir, 'keys');
  mkdirSync(keydir, { mode: 0o700, recursive: true });
  const key: KeyObject = createPrivateKey({
    key: Buffer.from(pkcs8),
    format: 'der',
    type: 'pkcs8',
  });
  const pem = join(keydir, `${keyName}.key`);
  writeFileSync(pem, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  // mkimage reads the public key of a keydir key from its certificate.
  const cert = await run(
    'openssl',
    [
      'req',
      '-batch',
      '-new',
      '-x509',
      '-key',
      pem,
      '-subj',
      `/CN=${keyName}`,
      '-days',
      '1',
      '-out',
      join(keydir, `${keyName}.crt`),
    ],
    {},
  );
  if (cert.code !== 0) throw new Error(`openssl req: ${cert.err}`);
  return run(
    'mkimage',
    ['-f', 'fit.its', '-k', keydir, '-K', 'control-pem.dtb', '-r', 'fit-pem.itb'],
    { SOURCE_DATE_EPOCH: EPOCH },
    { cwd: dir },
  );
}

/** A property as bytes (fdtget -t bx). */
export async function fdtBytes(file: string, node: string, prop: string): Promise<Buffer> {
  const r = await run('fdtget', ['-t', 'bx', file, node, prop], {});
  if (r.code !== 0) throw new Error(`fdtget ${node} ${prop}: ${r.err}`);
  return Buffer.from(
    r.out
      .trim()
      .split(/\s+/)
      .map((h) => parseInt(h, 16)),
  );
}

/** A property as text (fdtget -t s). */
export async function fdtText(file: string, node: string, prop: string): Promise<string> {
  const r = await run('fdtget', ['-t', 's', file, node, prop], {});
  if (r.code !== 0) throw new Error(`fdtget ${node} ${prop}: ${r.err}`);
  return r.out.trim();
}
