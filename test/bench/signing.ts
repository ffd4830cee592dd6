/**
 * Sign-many-files overhead: the demo's world unlocked by a real 3-of-5 ceremony, then N files
 * signed through the server's sign path (`custodian-server sign`: hash each file, up to 64
 * digests per admin API request, card SIGN, verify, write `.sig`, manifest), the same hashes through the
 * admin API in batches, and the same hashes as raw card SIGNs (`80 68 01 70`, docs/card-reference.md §8.1)
 * on the same card and key over the server's own connection. Heap after a full GC is taken
 * after every run to see whether memory grows with the file count.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminCall } from '../../demo/admin';
import { approve, connectAll, requestCeremony } from '../../demo/ceremony-steps';
import { inProcessHardware } from '../../demo/hardware';
import { createReporter } from '../../demo/report';
import {
  enrollAll,
  initializeTarget,
  serverUp,
  TARGET,
  testPki,
  type DemoContext,
} from '../../demo/setup-steps';
import { generateReleaseKey, signWithServer, SIGNING_KEY } from '../../demo/signing';
import { unwrap } from '../../shared/result';
import { ALGO } from '../../shared/sc-hsm/constants';
import { signCommand } from '../../shared/sc-hsm/sign';
import { NO_LATENCY, type CardLatency } from '../../emulator/latency-transport';
import { switchableHardware } from './card-model';
import { gc, median } from './stats';

/** One file count (times in milliseconds, memory in bytes). */
export type SigningPoint = {
  readonly files: number;
  /** `custodian-server sign` end to end (median of the repetitions). */
  readonly cliMs: number;
  /** Admin API, digests in batches of up to 1000. */
  readonly batchedMs: number;
  /** Raw card SIGN of the same hashes. */
  readonly rawMs: number;
  readonly cliOverhead: number;
  /** Spread of the raw repetitions, (max − min) / median: the noise floor of this machine. */
  readonly rawSpread: number;
  readonly batchedOverhead: number;
  /** Heap (used + external) after a full GC, after this run. */
  readonly heapAfter: number;
  /** Highest live heap (GC'd samples every 100 ms) above the GC'd start of a run, worse of CLI and batched. */
  readonly liveAboveStart: number;
};

const FILE_BYTES = 4096;
const PATHS = ['raw', 'batched', 'cli'] as const;
type Path = (typeof PATHS)[number];

function writeFiles(dir: string, n: number): { paths: string[]; digests: string[] } {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  const digests: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `f${String(i).padStart(6, '0')}.bin`);
    const body = Buffer.alloc(FILE_BYTES, `file ${i} `);
    writeFileSync(p, body);
    paths.push(p);
    digests.push(createHash('sha256').update(body).digest('hex'));
  }
  return { paths, digests };
}

const heap = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/** What one signing run measured. */
export type SigningResult = {
  readonly points: SigningPoint[];
  readonly heapBefore: number;
  readonly reps: number;
  /** The card-latency model the target ran at while signing. */
  readonly latency: CardLatency;
};

/**
 * Runs the benchmark for the given file counts with the target at card-latency model
 * `latency` (the unlock ceremony runs without it); each path `reps` times, the median kept.
 * `memoryPass: false` skips the untimed memory pass (liveAboveStart stays 0).
 */
export async function benchSigning(
  counts: readonly number[] = [100, 1000, 2000],
  reps = 3,
  latency: CardLatency = NO_LATENCY,
  memoryPass = true,
): Promise<SigningResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sign-'));
  const ctx: DemoContext = {
    r: createReporter(() => undefined),
    dir,
    frames: [],
    serverLog: [],
    credentials: new Map(),
  };
  const { ca, anchorFile } = testPki(ctx);
  const { hw, use } = switchableHardware(await inProcessHardware(ca));
  ctx.hw = hw;
  const server = await serverUp(ctx, hw, anchorFile, {
    maxSeconds: 3600,
    maxSignatures: 1_000_000,
  });
  try {
    await initializeTarget(ctx, server);
    await enrollAll(ctx, server, hw);
    const clients = await connectAll(ctx, server, hw);
    const id = await requestCeremony(ctx, server, clients);
    await approve(ctx, server, clients, hw, id);
    for (const c of clients) c.stop();
    await generateReleaseKey(server, TARGET);
    use(latency);
    const target = server.targets.get(TARGET)!;
    const heapBefore = heap();
    const points: SigningPoint[] = [];
    for (const [k, n] of counts.entries()) {
      const { paths, digests } = writeFiles(join(dir, `files-${k}`), n);
      const hashes = digests.map((d) => Uint8Array.from(Buffer.from(d, 'hex')));
      const runPath = async (path: Path): Promise<void> => {
        if (path === 'cli') {
          await signWithServer(server, TARGET, paths, join(dir, `sigs-${k}`));
          rmSync(join(dir, `sigs-${k}`), { recursive: true, force: true });
        } else if (path === 'batched') {
          for (let i = 0; i < digests.length; i += 1000) {
            const r = await adminCall<{ signatures: string[] }>(
              server,
              'POST',
              `/api/targets/${TARGET}/sign`,
              {
                key: String(SIGNING_KEY.id),
                digests: digests.slice(i, i + 1000),
              },
            );
            if (r.signatures.length !== Math.min(1000, digests.length - i))
              throw new Error('batch incomplete');
          }
        } else {
          await target.run(async (card) => {
            for (const [i, h] of hashes.entries()) {
              // Yield now and then, as a loop over a real reader does: a loop that never yields
              // starves every timer in this process (the server's and the HTTP clients').
              if (i % 64 === 63) await new Promise((r) => setImmediate(r));
              const r = await card.channel.send(
                unwrap(signCommand(SIGNING_KEY.id, ALGO.ECDSA_PREHASHED, h)),
              );
              if (r.sw !== 0x9000) throw new Error(`raw SIGN: SW ${r.sw.toString(16)}`);
            }
          });
        }
      };
      const runs = { cli: [] as number[], batched: [] as number[], raw: [] as number[] };
      // Timed: repeated with the order rotated, so machine load and GC hit every path alike.
      for (let rep = 0; rep < reps; rep++) {
        for (const [i] of PATHS.entries()) {
          const path = PATHS[(i + rep) % PATHS.length]!;
          const t0 = performance.now();
          await runPath(path);
          runs[path].push(performance.now() - t0);
        }
      }
      // Memory (untimed): live heap during a run = GC'd samples every 100 ms, minus the GC'd start.
      let liveAboveStart = 0;
      for (const path of memoryPass ? (['cli', 'batched'] as const) : []) {
        const start = heap();
        let live = start;
        const sampler = setInterval(() => void (live = Math.max(live, heap())), 100);
        await runPath(path);
        clearInterval(sampler);
        liveAboveStart = Math.max(liveAboveStart, live - start);
      }
      rmSync(join(dir, `files-${k}`), { recursive: true, force: true });
      const [cliMs, batchedMs, rawMs] = [median(runs.cli), median(runs.batched), median(runs.raw)];
      points.push({
        files: n,
        cliMs,
        batchedMs,
        rawMs,
        cliOverhead: cliMs / rawMs - 1,
        rawSpread: (Math.max(...runs.raw) - Math.min(...runs.raw)) / rawMs,
        batchedOverhead: batchedMs / rawMs - 1,
        heapAfter: heap(),
        liveAboveStart,
      });
    }
    return { points, heapBefore, reps, latency };
  } finally {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
