/**
 * The load stage (issue 12 §3): 1,000 custodians on one server. The REAL server runs in this
 * process with 50 emulated targets, each initialized 11-of-20 (the targets compute in a card
 * process of their own, as USB devices do, test/bench/load-targets.ts); 1,000 REAL custodian engines
 * (core/custodian/engine.ts over real WebSocket, each with its own emulated card) run in child
 * processes (test/bench/load-custodians.ts), so the figures below are the server's alone. Each
 * target gets one ceremony; once every custodian holds its offer, all of them approve at once.
 *
 * Measured in the server process from `go` until every decision was answered:
 *  - n-th approval → quorum per ceremony: from the moment the n-th decision of that ceremony
 *    left its custodian's socket (child clock) to the moment the server recorded quorum (its
 *    watcher; both clocks are the same machine's `performance.timeOrigin + now()`);
 *  - event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution), p99 and max;
 *  - server CPU (user + system) per decision received;
 *  - lost / double counted: per target, the card's own count (`80 54`) against the approvals
 *    stored, the `approval` audit entries and the `accepted` results the custodians received.
 *
 * One round per card-latency model of the run (stage-types.ts), on the same enrolled world; the
 * model delays each target APDU in the card process. Runnable alone:
 * `npx tsx test/bench/load.ts [--quick]` prints the table and the section (zero model only).
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { adminCall } from '../../demo/admin';
import type { FromCustodians, SeatOutcome, ToCustodians } from './load-custodians';
import { fmtMs, loadSection, markdownTable, roundRows, type RoundFigures } from './load-report';
import {
  countAll,
  loadWorld,
  requestAll,
  type LoadShape,
  type LoadWorld,
  type TargetPlacement,
} from './load-world';
import type { ReportRow, StageOptions, StageResult } from './stage-types';

/** Options of the load stage beyond the common ones. */
export type LoadStageOptions = Partial<StageOptions> & {
  /** Override the shape (default 50 targets × 11-of-20; quick: 5 × 3-of-5). */
  readonly shape?: LoadShape;
  /** Child processes the custodian engines are spread over (default 2). */
  readonly engineProcesses?: number;
  /** Where the emulated targets compute (default `process`: their own, like USB devices). */
  readonly targets?: TargetPlacement;
};

type CardModel = StageOptions['cardModels'][number];

const ZERO: CardModel = {
  name: '0 ms card model',
  latency: { simpleMs: 0, verifyPinMs: 0, signMs: 0, externalAuthenticateMs: 0, resetMs: 0 },
};

const now = () => performance.timeOrigin + performance.now();
const CHILD = fileURLToPath(new URL('./load-custodians.ts', import.meta.url));

type Child = { proc: ChildProcess; next(type: FromCustodians['type']): Promise<FromCustodians> };

/** Forks one custodian process (tsx loader), with a typed "wait for message" helper. */
function spawnCustodians(): Child {
  const proc = fork(CHILD, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced' });
  const inbox: FromCustodians[] = [];
  const waiting: (() => void)[] = [];
  let exit: string | undefined;
  proc.on('message', (m) => {
    inbox.push(m as FromCustodians);
    for (const w of waiting.splice(0)) w();
  });
  proc.on('exit', (code, signal) => {
    exit = `custodian process exited (${code ?? signal})`;
    for (const w of waiting.splice(0)) w();
  });
  return {
    proc,
    async next(type) {
      for (;;) {
        const failed = inbox.find((m) => m.type === 'failed');
        if (failed && failed.type === 'failed') throw new Error(`custodians: ${failed.message}`);
        const i = inbox.findIndex((m) => m.type === type);
        if (i >= 0) return inbox.splice(i, 1)[0]!;
        if (exit) throw new Error(exit);
        await new Promise<void>((r) => waiting.push(r));
      }
    },
  };
}

const toAll = (children: readonly Child[], m: ToCustodians) => {
  for (const c of children) c.proc.send(m);
};

/** One round: ceremonies at every target, everyone approves at once, measured and counted. */
async function round(
  w: LoadWorld,
  children: readonly Child[],
  shape: LoadShape,
  model: CardModel,
  say: (text: string) => void,
): Promise<RoundFigures> {
  await w.setCardLatency(model.latency);
  const load0 = loadavg()[0]!;
  const quorumAt = new Map<string, number>();
  const unwatch = w.server.engine.watch((s) => {
    if (s.state === 'quorum' && !quorumAt.has(s.id)) quorumAt.set(s.id, now());
  });
  const ceremonies = await requestAll(w);
  toAll(children, { type: 'wait-offers', ceremonies });
  for (const c of children) await c.next('offers');
  say(`load (${model.name}): every custodian holds its offer; all approve at once`);
  const commits0 = w.groupCommits();
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpu0 = process.cpuUsage();
  const go = now();
  toAll(children, { type: 'go' });
  const outcomes: SeatOutcome[] = [];
  let engineCpuMs = 0;
  let lastSent = 0;
  for (const c of children) {
    const d = await c.next('done');
    if (d.type !== 'done') continue;
    outcomes.push(...d.outcomes);
    engineCpuMs += d.cpuMs;
    lastSent = Math.max(lastSent, d.lastSentAt);
  }
  const settled = now();
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  unwatch();
  const commits = w.groupCommits() - commits0;
  const latencies: number[] = [];
  const noQuorum: string[] = [];
  for (const target of w.targets) {
    const id = ceremonies[target]!;
    const sent = outcomes
      .flatMap((o) => (o.ceremonyId === id && o.sentAt !== undefined ? [o.sentAt] : []))
      .sort((a, b) => a - b);
    const q = quorumAt.get(id);
    if (q === undefined || sent.length < shape.n) noQuorum.push(target);
    else latencies.push(q - sent[shape.n - 1]!);
  }
  const counts = await countAll(w, ceremonies, outcomes);
  // End the unlocks so the next round starts from locked targets.
  await Promise.all(w.targets.map((t) => adminCall(w.server, 'POST', `/api/targets/${t}/lock`)));
  const load1 = loadavg()[0]!;
  return {
    model: model.name,
    latencies,
    noQuorum,
    eldP99Ms: eld.percentile(99) / 1e6,
    eldMaxMs: eld.max / 1e6,
    serverCpuMs: (cpu.user + cpu.system) / 1000,
    decisions: outcomes.filter((o) => o.sentAt !== undefined).length,
    commits,
    counts,
    spreadMs: lastSent - go,
    settleMs: settled - go,
    engineCpuMs,
    load: `load ${load0.toFixed(1)}→${load1.toFixed(1)} on ${cpus().length} cores`,
  };
}

/** Runs the load stage; see the module comment. */
export async function runLoadStage(opts: LoadStageOptions = {}): Promise<StageResult> {
  const say = opts.say ?? (() => undefined);
  const shape =
    opts.shape ?? (opts.quick ? { targets: 5, m: 5, n: 3 } : { targets: 50, m: 20, n: 11 });
  const seatsTotal = shape.targets * shape.m;
  const processes = Math.max(1, Math.min(opts.engineProcesses ?? 2, shape.targets));
  const placement = opts.targets ?? 'process';
  const models = opts.cardModels?.length ? opts.cardModels : [ZERO];
  // m distinct custodian keys: seat j of every target holds a copy of key j.
  const keys = shape.m;
  const t0 = performance.now();
  say(`load: server with ${shape.targets} targets (${shape.n}-of-${shape.m}), ${seatsTotal} seats`);
  const w = await loadWorld(shape, placement, say);
  const children: Child[] = [];
  try {
    const auditDir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    // Seats of one target stay in one process (whole ceremonies per process).
    const perProcess = Math.ceil(shape.targets / processes);
    for (let p = 0; p < processes; p++) {
      const mine = new Set(w.targets.slice(p * perProcess, (p + 1) * perProcess));
      const child = spawnCustodians();
      children.push(child);
      child.proc.send({
        type: 'init',
        ca: w.ca,
        wsUrl: w.server.wsUrl,
        // Seat j of every target before seat j + 1 of any: enrollments in flight spread over
        // the targets instead of queueing at one card.
        seats: w.seats
          .filter((s) => mine.has(s.target))
          .map((s, i) => ({ s, j: i % shape.m }))
          .sort((a, b) => a.j - b.j)
          .map((x) => x.s),
        keys,
        auditDir,
        concurrency: 32,
      } satisfies ToCustodians);
    }
    const setupCpu0 = process.cpuUsage();
    let enrollMs = 0;
    for (const c of children) {
      const e = await c.next('enrolled');
      if (e.type === 'enrolled') enrollMs = Math.max(enrollMs, e.ms);
    }
    const setupCpu = process.cpuUsage(setupCpu0);
    const enrollServerCpuMs = (setupCpu.user + setupCpu.system) / 1000;
    say(`load: ${seatsTotal} custodians enrolled and connected (${fmtMs(enrollMs)})`);
    w.measured();
    const rounds: RoundFigures[] = [];
    for (const model of models) rounds.push(await round(w, children, shape, model, say));
    const rows: ReportRow[] = rounds.flatMap((r) => roundRows(shape, r));
    const section = loadSection({
      shape,
      processes,
      placement,
      keys,
      enrollMs,
      enrollServerCpuMs,
      rounds,
      totalS: (performance.now() - t0) / 1000,
    });
    return { rows, section };
  } finally {
    toAll(
      children.filter((c) => c.proc.connected),
      { type: 'stop' },
    );
    await new Promise((r) => setTimeout(r, 300));
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill();
    await w.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runLoadStage({
    quick: process.argv.includes('--quick'),
    say: (t) => void process.stderr.write(`${t}\n`),
  });
  process.stdout.write(`${markdownTable(r.rows)}\n\n${r.section}\n`);
}
