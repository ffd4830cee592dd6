/**
 * `npm run demo`: the whole story in one process, no hardware. A TEST PKI, an emulated target
 * and five emulated custodian cards, the real server on loopback, the target initialized
 * 3-of-5, five custodians enrolled with attestation, a ceremony approved by three of them with
 * their PINs through the real custodian engine, quorum read from the card, ten files signed
 * through the server and verified. Everything lives in a fresh temporary directory.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PkaStatus } from '../shared/sc-hsm/pka';
import { cardStatus } from './admin';
import { approve, connectAll, quorum, requestCeremony } from './ceremony-steps';
import type { CustodianClient } from './custodian';
import { inProcessHardware, type Hardware } from './hardware';
import { scanForPins } from './pin-scan';
import { createReporter, formatPka, type ReportSink } from './report';
import {
  cardsStep,
  describeCards,
  enrollAll,
  initializeTarget,
  serverUp,
  testPki,
  QUORUM,
  TARGET,
  type DemoContext,
} from './setup-steps';
import {
  generateReleaseKey,
  hasOpenssl,
  signWithServer,
  verifySignatures,
  writeSampleFiles,
  type FileVerification,
} from './signing';
import type { TestCa } from '../emulator/ca/test-ca';
import { generateFitKey, hasFitTools, signFitThroughModule, type FitResult } from './mkimage-steps';

/** Number of sample files the demo signs. */
export const FILE_COUNT = 10;

/** Options of a demo run. */
export type DemoOptions = {
  readonly out: ReportSink;
  readonly color?: boolean;
  /** Keep the temporary directory (default: removed at the end). */
  readonly keep?: boolean;
  /** Provides the cards (default: all in-process). `--pcsc` passes demo/pcsc.ts here. */
  readonly hardware?: (ca: TestCa, say: (line: string) => void) => Promise<Hardware>;
  /** Parent of the temporary directory (default: the OS temp dir). */
  readonly tmpRoot?: string;
  /** Then sign a FIT image with mkimage through the PKCS#11 module (demo/mkimage-steps.ts). */
  readonly mkimage?: boolean;
};

/** What the run established (the integration test asserts on it). */
export type DemoResult = {
  readonly targetDeviceId: string;
  readonly anchorChr: string;
  /** The card's PKA status right after quorum. */
  readonly atQuorum: PkaStatus;
  readonly approvedBy: readonly string[];
  readonly ceremonyState: string;
  readonly verifications: readonly FileVerification[];
  /** The card's PKA status after the unlock window ended. */
  readonly afterUnlock: PkaStatus;
  readonly pinScan: {
    readonly frames: number;
    readonly files: number;
    readonly leaks: readonly string[];
  };
  readonly steps: number;
  readonly seconds: number;
  /** The temporary directory, if kept. */
  readonly keptDir: string | undefined;
  /** The FIT signing through the module (`mkimage`). */
  readonly fit: FitResult | undefined;
};

/** Runs the demo; throws with a clear message on the first failure (after cleaning up). */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const dir = mkdtempSync(join(o.tmpRoot ?? tmpdir(), 'custodian-demo-'));
  const r = createReporter(o.out, o.color ?? false);
  const ctx: DemoContext = { r, dir, frames: [], serverLog: [], credentials: new Map() };
  const clients: CustodianClient[] = [];
  try {
    const mode = o.hardware
      ? 'target and one custodian card over pcscd + vpcd'
      : 'all cards in-process, no pcscd';
    o.out(
      `Custodian demo: remote ${QUORUM.n}-of-${QUORUM.m} PKA with emulated cards (${mode}); state in ${dir}\n`,
    );
    if (o.mkimage && !hasFitTools())
      throw new Error(
        '--mkimage needs mkimage, dtc, fdtget and gcc: apt-get install u-boot-tools device-tree-compiler build-essential libengine-pkcs11-openssl',
      );
    const { ca, anchorFile } = testPki(ctx);
    cardsStep(ctx);
    const hw = await (o.hardware ?? ((c: TestCa) => inProcessHardware(c)))(ca, (line) =>
      r.info(line),
    );
    ctx.hw = hw;
    describeCards(ctx, hw);
    if (o.mkimage && !hw.targetCard)
      throw new Error('--mkimage runs with the in-process cards (it proves with the target key)');
    const server = await serverUp(
      ctx,
      hw,
      anchorFile,
      undefined,
      o.mkimage ? join(dir, 'pkcs11', 'pkcs11.sock') : undefined,
    );
    await initializeTarget(ctx, server);
    await enrollAll(ctx, server, hw);
    clients.push(...(await connectAll(ctx, server, hw)));
    const ceremonyId = await requestCeremony(ctx, server, clients);
    await approve(ctx, server, clients, hw, ceremonyId);
    const q = await quorum(ctx, server, clients, ceremonyId);

    r.step(
      'Generate the release signing key on the unlocked target',
      'the target has no user PIN, so keys can only be created under a quorum: POST /api/targets/:t/keys, as custodian-server target keygen; the key may only sign hashes (docs/card-reference.md §7, §8.3)',
    );
    const key = await generateReleaseKey(server, TARGET);
    r.ok(`key #${key.id} "${key.label}" (CHR ${key.chr}) on ${key.curve.name}`);
    r.info(
      `generated by the server inside the unlock window of ${key.ceremonyId}: audited, no signature of the window spent`,
    );

    const fitKey = o.mkimage ? await generateFitKey(ctx, server, TARGET) : undefined;

    r.step(
      `Sign ${FILE_COUNT} files through the server`,
      'files are hashed locally and only SHA-256 digests go to the target (80 68 <kid> 70, docs/card-reference.md §8.1); each signature counts against the unlock window',
    );
    const files = writeSampleFiles(join(dir, 'files'), FILE_COUNT);
    const sigDir = join(dir, 'signatures');
    for (const line of await signWithServer(server, TARGET, files, sigDir)) r.info(line);

    const openssl = hasOpenssl();
    r.step(
      'Verify every signature independently',
      'a signature is only worth something if a third party can check it with the public key alone',
    );
    const verifications = verifySignatures(files, sigDir, key, openssl);
    for (const v of verifications) {
      const ossl =
        v.openssl === undefined ? 'openssl n/a' : v.openssl ? 'openssl OK' : 'openssl FAILED';
      const line = `${v.file} sha256 ${v.sha256.slice(0, 16)}… @noble ${v.noble ? 'OK' : 'FAILED'}, ${ossl}`;
      if (v.noble && v.openssl !== false) r.ok(line);
      else r.warn(line);
    }
    if (!openssl)
      r.warn(
        'openssl is not on PATH: verified with @noble only (apt-get install openssl to add the second check)',
      );
    const bad = verifications.filter((v) => !v.noble || v.openssl === false);
    if (bad.length > 0)
      throw new Error(
        `${bad.length} signature(s) did not verify: ${bad.map((b) => b.file).join(', ')}`,
      );

    r.step(
      'The unlock ended with the last allowed signature',
      'after the window the server resets the target, which drops every PKA authentication (docs/card-reference.md §6.7)',
    );
    const afterUnlock = await cardStatus(server, TARGET);
    if (afterUnlock.authenticated !== 0)
      throw new Error(`target still unlocked after the window: ${formatPka(afterUnlock)}`);
    r.ok(`card PKA status: ${formatPka(afterUnlock)}`);

    const fit =
      fitKey !== undefined && hw.targetCard
        ? await signFitThroughModule(ctx, server, clients, hw, hw.targetCard, fitKey, TARGET)
        : undefined;

    r.step(
      'Check that no PIN ever left a custodian machine',
      'PINs are verified on the custodian card only; the server must never see them (docs/card-reference.md §14.2)',
    );
    for (const c of clients.splice(0)) c.stop();
    const pinScan = scanForPins(
      ctx.frames,
      [join(dir, 'server-data'), dir],
      hw.custodians.map((c) => c.pin),
    );
    if (pinScan.leaks.length > 0) throw new Error(`PIN leak: ${pinScan.leaks.join('; ')}`);
    r.ok(
      `${pinScan.frames} WebSocket frames and ${pinScan.files} files searched: no PIN, no VERIFY APDU`,
    );

    const seconds = (performance.now() - started) / 1000;
    o.out(
      `\nDone in ${seconds.toFixed(1)} s: quorum ${q.status.authenticated}/${q.status.n} from the card, ${verifications.length} signatures verified${fit ? ', FIT image signed through PKCS#11 and proven' : ''}.\n`,
    );
    return {
      targetDeviceId: hw.targetDeviceId,
      anchorChr: ctx.anchor!.cvc.body.chr,
      atQuorum: q.status,
      approvedBy: q.approvedBy,
      ceremonyState: q.state,
      verifications,
      afterUnlock,
      pinScan,
      steps: r.steps,
      seconds,
      keptDir: o.keep ? dir : undefined,
      fit,
    };
  } catch (e) {
    if (ctx.serverLog.length > 0)
      o.out(`\nserver log:\n${ctx.serverLog.map((l) => `  ${l}`).join('\n')}\n`);
    throw e;
  } finally {
    for (const c of clients) c.stop();
    await ctx.server?.stop().catch(() => undefined);
    await ctx.hw?.close().catch(() => undefined);
    if (o.keep) o.out(`State kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
