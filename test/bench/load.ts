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
 * Runnable alone: `npx tsx test/bench/load.ts [--quick]` prints the table and the section.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FromCustodians, SeatOutcome, ToCustodians } from './load-custodians';
import {
  countAll,
  loadWorld,
  requestAll,
  type LoadShape,
  type TargetCount,
  type TargetPlacement,
} from './load-world';
import { percentile } from './stats';

/** One row of the report's summary table (the contract of test/bench/stage-types.ts). */
type ReportRow = {
  readonly measure: string;
  readonly result: string;
  readonly goal: string;
  readonly status: 'met' | 'missed' | 'info';
  readonly notes?: string;
};

/** What the stage resolves with: summary rows and its "How it is measured" section. */
export type LoadStageResult = { readonly rows: readonly ReportRow[]; readonly section: string };

/** Options of the load stage. */
export type LoadStageOptions = {
  /** Small shape (5 targets × 3-of-5) that only checks the machinery. */
  readonly quick?: boolean;
  /** Override the shape (default 50 targets × 11-of-20). */
  readonly shape?: LoadShape;
  /** Child processes the custodian engines are spread over (default 2). */
  readonly engineProcesses?: number;
  /** Where the emulated targets compute (default `process`: their own, like USB devices). */
  readonly targets?: TargetPlacement;
  /** Distinct custodian keys; seats share copies of them (default 20). */
  readonly keys?: number;
  /** Progress lines (stderr); not part of the report. */
  readonly say?: (text: string) => void;
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

const fmtMs = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);

/** Runs the load stage; see the module comment. */
export async function runLoadStage(opts: LoadStageOptions = {}): Promise<LoadStageResult> {
  const say = opts.say ?? (() => undefined);
  const shape =
    opts.shape ?? (opts.quick ? { targets: 5, m: 5, n: 3 } : { targets: 50, m: 20, n: 11 });
  const seatsTotal = shape.targets * shape.m;
  const processes = Math.max(1, Math.min(opts.engineProcesses ?? 2, shape.targets));
  const t0 = performance.now();
  const load0 = loadavg()[0]!;
  say(
    `load: server with ${shape.targets} targets (${shape.n}-of-${shape.m}), ${seatsTotal} tokens`,
  );
  const placement = opts.targets ?? 'process';
  const w = await loadWorld(shape, placement, say);
  const children: Child[] = [];
  try {
    const keys = Math.min(opts.keys ?? 20, shape.m);
    const auditDir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    // Seats of one target stay in one process (whole ceremonies per process).
    const perProcess = Math.ceil(shape.targets / processes);
    for (let p = 0; p < processes; p++) {
      const mine = new Set(w.targets.slice(p * perProcess, (p + 1) * perProcess));
      const child = spawnCustodians();
      children.push(child);
      const init: ToCustodians = {
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
      };
      child.proc.send(init);
    }
    let enrollMs = 0;
    for (const c of children) {
      const e = await c.next('enrolled');
      if (e.type === 'enrolled') enrollMs = Math.max(enrollMs, e.ms);
    }
    say(`load: ${seatsTotal} custodians enrolled and connected (${fmtMs(enrollMs)})`);
    const quorumAt = new Map<string, number>();
    const unwatch = w.server.engine.watch((s) => {
      if (s.state === 'quorum' && !quorumAt.has(s.id)) quorumAt.set(s.id, now());
    });
    const ceremonies = await requestAll(w);
    for (const c of children) c.proc.send({ type: 'wait-offers', ceremonies } as ToCustodians);
    for (const c of children) await c.next('offers');
    say(`load: every custodian holds its offer; all approve at once`);

    const commits0 = w.groupCommits();
    const eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
    const cpu0 = process.cpuUsage();
    const go = now();
    for (const c of children) c.proc.send({ type: 'go' } as ToCustodians);
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
    const load1 = loadavg()[0]!;

    // n-th approval → quorum, per ceremony.
    const latencies: number[] = [];
    const noQuorum: string[] = [];
    for (const target of w.targets) {
      const id = ceremonies[target]!;
      const sent = outcomes
        .filter((o) => o.ceremonyId === id && o.sentAt !== undefined)
        .map((o) => o.sentAt!)
        .sort((a, b) => a - b);
      const q = quorumAt.get(id);
      if (q === undefined || sent.length < shape.n) noQuorum.push(target);
      else latencies.push(q - sent[shape.n - 1]!);
    }
    const counts = await countAll(w, ceremonies, outcomes);
    const bad = counts.filter(
      (c) =>
        c.card !== c.stored ||
        c.stored !== c.audited ||
        c.audited !== c.acceptedByEngines ||
        c.notSent > 0 ||
        c.epoch !== 1,
    );
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const decisions = outcomes.filter((o) => o.sentAt !== undefined).length;
    const eldP99 = eld.percentile(99) / 1e6;
    const eldMax = eld.max / 1e6;
    const p50 = latencies.length ? percentile(latencies, 50) : Number.NaN;
    const p99 = latencies.length ? percentile(latencies, 99) : Number.NaN;
    const notes = `load ${load0.toFixed(1)}→${load1.toFixed(1)}, ${cpus().length} cores`;
    const label = `${seatsTotal.toLocaleString('en')} custodians (${shape.targets} × ${shape.n}-of-${shape.m})`;
    const status = (ok: boolean): ReportRow['status'] => (ok ? 'met' : 'missed');
    const rows: ReportRow[] = [
      {
        measure: `${label}: n-th approval → quorum, p50`,
        result: fmtMs(p50),
        goal: '—',
        status: 'info',
        notes,
      },
      {
        measure: `${label}: n-th approval → quorum, p99`,
        result: noQuorum.length ? `${noQuorum.length} without quorum` : fmtMs(p99),
        goal: '≤ 1 s',
        status: status(noQuorum.length === 0 && p99 <= 1000),
        notes,
      },
      {
        measure: `${label}: server event-loop delay, p99 (max)`,
        result: `${fmtMs(eldP99)} (${fmtMs(eldMax)})`,
        goal: '≤ 100 ms',
        status: status(eldP99 <= 100),
        notes,
      },
      {
        measure: `${label}: server CPU per decision`,
        result: `${(cpuMs / Math.max(1, decisions)).toFixed(1)} ms`,
        goal: '—',
        status: 'info',
        notes: `${commits} store commits for ${decisions} decisions`,
      },
      {
        measure: `${label}: approvals lost or double counted`,
        result: String(
          bad.length === 0 && noQuorum.length === 0 ? 0 : bad.length + noQuorum.length,
        ),
        goal: '0',
        status: status(bad.length === 0 && noQuorum.length === 0),
        ...(bad.length ? { notes: bad.map(describe).join('; ').slice(0, 300) } : {}),
      },
    ];
    const section = sectionText({
      shape,
      processes,
      placement,
      keys,
      enrollMs,
      spreadMs: lastSent - go,
      settleMs: settled - go,
      decisions,
      commits,
      engineCpuMs,
      counts,
      totalS: (performance.now() - t0) / 1000,
      notes,
    });
    return { rows, section };
  } finally {
    for (const c of children) {
      if (c.proc.connected) c.proc.send({ type: 'stop' } as ToCustodians);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill();
    await w.close();
  }
}

function describe(c: TargetCount): string {
  return `${c.target}: card ${c.card}, stored ${c.stored}, audited ${c.audited}, accepted ${c.acceptedByEngines}, not sent ${c.notSent}, epoch ${c.epoch}`;
}

function sectionText(x: {
  shape: LoadShape;
  processes: number;
  placement: TargetPlacement;
  keys: number;
  enrollMs: number;
  spreadMs: number;
  settleMs: number;
  decisions: number;
  commits: number;
  engineCpuMs: number;
  counts: readonly TargetCount[];
  totalS: number;
  notes: string;
}): string {
  const cardTotal = x.counts.reduce((a, c) => a + c.card, 0);
  return [
    '### Load: many custodians on one server',
    '',
    `The real server in one process with ${x.shape.targets} emulated targets ` +
      (x.placement === 'process'
        ? '(computing in a card process of their own, one IPC round trip per APDU, as USB devices compute on their own), '
        : '(computing in the server process: their crypto counts as server CPU), ') +
      'each initialized ' +
      `${x.shape.n}-of-${x.shape.m}, and ${x.shape.targets * x.shape.m} real custodian engines ` +
      `(core/custodian/engine.ts, real WebSocket, one emulated card each) in ${x.processes} child ` +
      'processes, so the server-side figures are the server process alone. One ceremony per ' +
      'target; when every custodian holds its offer, all approve at once. Custodian keys: ' +
      `${x.keys} generated on cards, each seat signing on its own copy of one; ` +
      'custodian audit logs on a ' +
      'memory file system (each real custodian has a disk of their own); the offer-chain cache is ' +
      'shared per child process. Server: SQLite on disk, `synchronous=FULL`, group commit.',
    '',
    `- n-th approval → quorum: from the moment decision no. ${x.shape.n} of a ceremony left ` +
      "its custodian's socket to the server's quorum record, per ceremony (p99 of " +
      `${x.shape.targets} ceremonies is their maximum but one).`,
    '- Event-loop delay: `perf_hooks.monitorEventLoopDelay` (10 ms resolution) in the server ' +
      'process, from the go signal until every decision was answered.',
    '- CPU: server process user + system over the same window, per decision received.',
    '- Lost or double counted: per target, the card’s own count (`80 54`) must equal the ' +
      'approvals stored, the `approval` audit entries and the `accepted` results the custodians ' +
      'received, in the first epoch, with every decision sent.',
    '',
    `This run: enrollment of all seats ${fmtMs(x.enrollMs)}; decisions left the custodians over ` +
      `${fmtMs(x.spreadMs)} (their card signatures); all ${x.decisions} answered ` +
      `${fmtMs(x.settleMs)} after the go; ${x.commits} store commits; cards counted ${cardTotal} ` +
      `approvals in total; custodian processes used ${fmtMs(x.engineCpuMs)} CPU. Stage ` +
      `${x.totalS.toFixed(0)} s; ${x.notes}.`,
  ].join('\n');
}

/** The table as markdown. */
function table(rows: readonly ReportRow[]): string {
  const lines = ['| measure | result | goal | status | notes |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.measure} | ${r.result} | ${r.goal} | ${r.status} | ${r.notes ?? ''} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runLoadStage({
    quick: process.argv.includes('--quick'),
    say: (t) => void process.stderr.write(`${t}\n`),
  });
  process.stdout.write(`${table(r.rows)}\n\n${r.section}\n`);
}
