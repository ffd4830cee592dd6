/**
 * `npm run bench [-- --quick] [-- --out FILE]`: runs every benchmark and writes the report
 * (default docs/benchmarks.md). `--quick` uses small sample sizes to check the machinery
 * (seconds instead of minutes) and writes to a temporary file unless `--out` is given.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg, release, setPriority, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { SC_HSM_USB_LATENCY } from '../../emulator/latency-transport';
import { CARD_MODELS } from './card-model';
import { benchCeremony } from './ceremony';
import { benchIdleMemory } from './idle-memory';
import { benchRelay } from './relay';
import { renderReport, type BenchResults } from './report';
import { benchSigning } from './signing';
import type { StageOptions, StageResult } from './stage-types';
import { EXTRA_STAGES } from './stages';

/** Round-trip times the ceremony and its anchor are measured at (ms). */
const RTTS = [0, 5, 20, 50];

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function raisePriority(): string {
  // Other jobs may share the machine; a higher priority (root only) narrows the noise. Best effort.
  try {
    setPriority(-5);
  } catch {
    // not permitted: run at the normal priority
  }
  return `nice ${getPriority()}`;
}

/** File descriptors the idle-connection bench needs in one process (10,000 sockets + slack). */
const NEEDED_FDS = 12_000;

function fdLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 0;
  } catch {
    return 0;
  }
}

/**
 * Re-runs this process under a raised `ulimit -n` when the soft limit is too low for 10,000
 * connections (Node cannot raise its own limit). Returns the child's exit code, or undefined
 * when no re-run is needed or possible.
 */
function rerunWithMoreFds(): number | undefined {
  const limit = fdLimit();
  if (limit === 0 || limit >= NEEDED_FDS || process.env.CUSTODIAN_BENCH_REEXEC === '1')
    return undefined;
  process.stderr.write(`bench: ulimit -n is ${limit}; re-running with a raised limit\n`);
  const script = `ulimit -n ${4 * NEEDED_FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
  const r = spawnSync(
    'sh',
    ['-c', script, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
      env: { ...process.env, CUSTODIAN_BENCH_REEXEC: '1' },
    },
  );
  return r.status ?? 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const rerun = rerunWithMoreFds();
  if (rerun !== undefined) return rerun;
  if (fdLimit() > 0 && fdLimit() < NEEDED_FDS && !argv.includes('--quick')) {
    process.stderr.write(
      `bench: ulimit -n is ${fdLimit()}, 10,000 connections need ${NEEDED_FDS}: run \`ulimit -n ${4 * NEEDED_FDS}\` (as root if needed) first\n`,
    );
    return 1;
  }
  const quick = argv.includes('--quick');
  const outIndex = argv.indexOf('--out');
  const out =
    outIndex >= 0
      ? argv[outIndex + 1]
      : quick
        ? join(tmpdir(), 'benchmarks-quick.md')
        : 'docs/benchmarks.md';
  if (out === undefined) {
    process.stderr.write('bench: --out needs a file\n');
    return 2;
  }
  const started = performance.now();
  const loadBefore = load();
  const priority = raisePriority();
  const say = (t: string) => process.stderr.write(`bench: ${t}\n`);

  // Sample counts: chosen so the whole run stays within ~5 minutes on a quiet 2-core machine.
  const n = quick
    ? { relay: 50, ceremonyRuns: 2, idle: [200, 1000], files: [20, 100], reps: 1, modelFiles: [10] }
    : {
        relay: 300,
        ceremonyRuns: 6,
        idle: [1000, 10_000],
        files: [100, 1000, 2000],
        reps: 2,
        modelFiles: [50],
      };
  const durations: { name: string; seconds: number }[] = [];
  const timed = async <T>(name: string, what: string, fn: () => Promise<T>): Promise<T> => {
    say(`${name} (${what})…`);
    const t0 = performance.now();
    const out = await fn();
    durations.push({ name, seconds: (performance.now() - t0) / 1000 });
    return out;
  };
  const relay = await timed('relay overhead', `${n.relay} approvals × 2`, () =>
    benchRelay(n.relay, quick ? 10 : 50),
  );
  const { roundTrips, ceremony } = await timed(
    'ceremony and anchor',
    `RTT ${RTTS.join('/')} ms, ${n.ceremonyRuns} each`,
    () => benchCeremony(RTTS, n.ceremonyRuns),
  );
  const idle = await timed('idle connections', n.idle.join(' / '), () => benchIdleMemory(n.idle));
  const signing = await timed('signing, 0 ms cards', `${n.files.join(' / ')} files`, () =>
    benchSigning(n.files, n.reps),
  );
  const signingModel = await timed('signing, card model', `${n.modelFiles.join(' / ')} files`, () =>
    benchSigning(n.modelFiles, 2, SC_HSM_USB_LATENCY, false),
  );

  const stageOpts: StageOptions = { quick, cardModels: CARD_MODELS, say };
  const extra: StageResult[] = [];
  for (const stage of EXTRA_STAGES)
    extra.push(await timed(stage.name, 'stage', () => stage.run(stageOpts)));

  const results: BenchResults = {
    relay,
    roundTrips,
    ceremony,
    idle,
    signing,
    signingModel,
    extra,
  };
  const cpu = cpus();
  const report = renderReport(results, {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: commit(),
    cpus: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    os: `${type()} ${release()}`,
    loadBefore,
    loadAfter: load(),
    priority,
    durationS: (performance.now() - started) / 1000,
    durations,
    command: quick ? 'npm run bench -- --quick' : 'npm run bench',
  });
  writeFileSync(out, report + keptSection(out));
  say(`wrote ${out}`);
  process.stdout.write(`${report.split('\n## Machine')[0]}\n`);
  return 0;
}

/**
 * Sections other commands maintain, carried over between their markers: `npm run bench:pkcs11`
 * (test/bench/pkcs11.ts) and the desktop app's first paint (`npx tsx test/bench/ui-fcp.ts`,
 * which needs Chromium and is run by hand).
 */
const KEPT_SECTIONS = ['ui-fcp', 'pkcs11-bench'] as const;

function keptSection(file: string): string {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  return KEPT_SECTIONS.map((name) => {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    return a >= 0 && b > a ? `\n${text.slice(a, b + end.length)}\n` : '';
  }).join('');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench FAILED: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
