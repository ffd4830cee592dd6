/**
 * `npm run demo -- --mkimage`: after the 3-of-5 story, a build machine signs a U-Boot FIT image
 * with mkimage through the PKCS#11 module (docs/pkcs11.md). The module's C_Login requests a new
 * ceremony, the same three custodians approve, and the signature is proven: mkimage with the
 * same key as a PEM (exported from the emulated target's state — demo only) gives the identical
 * signature value, and the public key in control.dtb is the target's.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import type { CustodianClient } from './custodian';
import type { EmulatedSmartCardHsm } from '../emulator/card/sc-hsm-card';
import type { RunningServer } from '../server/app';
import { adminCall } from './admin';
import { approve, APPROVERS } from './ceremony-steps';
import { fdtBytes, fitWorkdir, mkimagePem, mkimagePkcs11, run } from './fit-sign';
import type { Hardware } from './hardware';
import type { DemoContext } from './setup-steps';

/** Label (and FIT key-name-hint) of the RSA key the FIT is signed with. */
export const FIT_KEY = 'fit-rsa';

/** What the FIT signing proved. */
export type FitResult = {
  readonly ceremonyId: string;
  readonly signatureBytes: number;
  readonly sameAsPem: boolean;
  readonly dtbKeyIsTargets: boolean;
};

/** True when the tools of this step are installed (u-boot-tools, device-tree-compiler, gcc). */
export function hasFitTools(): boolean {
  try {
    execFileSync(
      'sh',
      ['-c', 'command -v mkimage && command -v dtc && command -v fdtget && command -v gcc'],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  }
}

/** Step (inside the first unlock window): an RSA-2048 key for the FIT on the target. */
export async function generateFitKey(
  ctx: DemoContext,
  server: RunningServer,
  target: string,
): Promise<number> {
  ctx.r.step(
    'Generate an RSA-2048 key for FIT images on the unlocked target',
    'sha256,rsa2048 configuration signatures need RSA; only a quorum may create keys on this target (docs/card-reference.md §7)',
  );
  const t = server.targets.get(target);
  if (!t) throw new Error(`no target ${target}`);
  const key = await t.withinUnlock((card) =>
    card.generateRsaSigningKey({ label: FIT_KEY, bits: 2048 }),
  );
  ctx.r.ok(`key #${key.keyId} "${FIT_KEY}" (CHR ${key.chr}), RSA 2048`);
  return key.keyId;
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Steps: mkimage through the module, a ceremony at C_Login, and the proof. */
export async function signFitThroughModule(
  ctx: DemoContext,
  server: RunningServer,
  clients: readonly CustodianClient[],
  hw: Hardware,
  targetCard: EmulatedSmartCardHsm,
  keyId: number,
  target: string,
): Promise<FitResult> {
  const { r } = ctx;
  r.step(
    'Build the PKCS#11 module and issue a credential for the build machine',
    'npm run build:pkcs11; custodian-server pkcs11-client create --name build01 (the credential is shown once and stored hashed)',
  );
  // Asynchronously: the in-process server keeps serving its connections meanwhile.
  const built = await run(
    process.execPath,
    [join(import.meta.dirname, '..', 'build', 'pkcs11.mjs'), '--release-only'],
    {},
  );
  if (built.code !== 0) throw new Error(`npm run build:pkcs11 failed: ${built.err}`);
  const module = join(import.meta.dirname, '..', 'pkcs11', 'build', 'libcustodian-pkcs11.so');
  const { credential } = await adminCall<{ credential: string }>(
    server,
    'POST',
    '/api/pkcs11-clients',
    {
      name: 'build01',
    },
  );
  r.ok(`module ${module}; socket ${server.pkcs11Socket ?? '?'}`);

  r.step(
    'mkimage signs a FIT image through the module: C_Login asks the custodians',
    `mkimage -f fit.its -N pkcs11 -k "token=${target}" -K control.dtb -r fit.itb — the unlock window of the first ceremony is over, so C_Login requests a new one and waits`,
  );
  const dir = await fitWorkdir(FIT_KEY, ctx.dir);
  const signing = mkimagePkcs11(
    dir,
    module,
    {
      CUSTODIAN_PKCS11_SOCKET: server.pkcs11Socket ?? '',
      CUSTODIAN_PKCS11_CREDENTIAL: credential,
      CUSTODIAN_PKCS11_PURPOSE: 'FIT image for release 4.2 (demo)',
      CUSTODIAN_PKCS11_REQUESTER: 'demo build machine',
      CUSTODIAN_PKCS11_LOG: join(ctx.dir, 'pkcs11.log'),
      CUSTODIAN_PKCS11_QUIET: '1',
    },
    target,
  );
  const ceremony = await Promise.race([
    waitFor('ceremony from C_Login', () =>
      server.engine.list().find((c) => c.target === target && c.state === 'open'),
    ),
    signing.then((x) => {
      throw new Error(`mkimage ended before asking for a login (${x.code}): ${x.out}${x.err}`);
    }),
  ]);
  r.info(`ceremony ${ceremony.id}: "${ceremony.purpose}" requested by ${ceremony.requester}`);
  await waitFor('offers for the approvers', () =>
    APPROVERS.every((n) =>
      clients
        .find((c) => c.name === n)
        ?.engine.offers()
        .some((o) => o.ceremonyId === ceremony.id),
    )
      ? true
      : undefined,
  );
  await approve(ctx, server, clients, hw, ceremony.id);
  const done = await signing;
  if (done.code !== 0) throw new Error(`mkimage failed (${done.code}): ${done.out}${done.err}`);
  r.ok('mkimage wrote fit.itb and the public key into control.dtb');

  r.step(
    'Prove the FIT signature',
    'mkimage again with the same key as a PEM in a keydir (exported from the emulated target — demo only), same SOURCE_DATE_EPOCH: PKCS#1 v1.5 is deterministic, so the signature values must be identical',
  );
  const rec = targetCard.state.keys.get(keyId);
  if (!rec?.rsa) throw new Error(`key ${keyId} is not an RSA key`);
  const ref = await mkimagePem(dir, FIT_KEY, rec.rsa.pkcs8);
  if (ref.code !== 0) throw new Error(`mkimage with the PEM failed: ${ref.err}`);
  const node = '/configurations/conf-1/signature-1';
  const a = await fdtBytes(join(dir, 'fit.itb'), node, 'value');
  const b = await fdtBytes(join(dir, 'fit-pem.itb'), node, 'value');
  const sameAsPem = a.length === 256 && a.equals(b);
  const modulus = await fdtBytes(
    join(dir, 'control.dtb'),
    `/signature/key-${FIT_KEY}`,
    'rsa,modulus',
  );
  const jwk = createPublicKey(
    createPrivateKey({ key: Buffer.from(rec.rsa.pkcs8), format: 'der', type: 'pkcs8' }),
  ).export({ format: 'jwk' });
  const dtbKeyIsTargets = modulus.equals(Buffer.from(jwk.n ?? '', 'base64url'));
  if (!sameAsPem) throw new Error('the FIT signature differs from the PEM signing');
  if (!dtbKeyIsTargets) throw new Error("control.dtb does not hold the target's key");
  r.ok(
    `signature value (${a.length} bytes) identical to the PEM signing: ${a.subarray(0, 8).toString('hex')}…`,
  );
  r.ok(`control.dtb /signature/key-${FIT_KEY}: rsa,modulus is the target's key #${keyId}`);
  const fdt = await run(
    'fdtget',
    ['-t', 's', join(dir, 'control.dtb'), `/signature/key-${FIT_KEY}`, 'required'],
    {},
  );
  r.info(`control.dtb marks the key required: ${fdt.out.trim() || '(not set)'}`);
  return { ceremonyId: ceremony.id, signatureBytes: a.length, sameAsPem, dtbKeyIsTargets };
}
