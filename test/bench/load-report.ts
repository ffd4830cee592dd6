/**
 * Rows and the "How it is measured" section of the load stage (test/bench/load.ts), from the
 * figures of each round (one round per card-latency model).
 * @module
 */
import type { ReportRow } from './stage-types';
import type { LoadShape, TargetCount, TargetPlacement } from './load-world';
import { percentile } from './stats';

/** What one round measured. */
export type RoundFigures = {
  readonly model: string;
  /** n-th decision sent → quorum recorded, per ceremony (ms). */
  readonly latencies: readonly number[];
  /** Targets whose ceremony reached no quorum. */
  readonly noQuorum: readonly string[];
  readonly eldP99Ms: number;
  readonly eldMaxMs: number;
  readonly serverCpuMs: number;
  readonly decisions: number;
  readonly commits: number;
  readonly counts: readonly TargetCount[];
  /** go → last decision sent, go → every decision answered (ms). */
  readonly spreadMs: number;
  readonly settleMs: number;
  readonly engineCpuMs: number;
  readonly load: string;
};

/** `412 ms` / `1.23 s`. */
export const fmtMs = (v: number): string =>
  Number.isNaN(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`;

/** A target whose card, store, audit and custodians disagree (or that was re-opened). */
export function badCounts(counts: readonly TargetCount[]): TargetCount[] {
  return counts.filter(
    (c) =>
      c.card !== c.stored ||
      c.stored !== c.audited ||
      c.audited !== c.acceptedByEngines ||
      c.notSent > 0 ||
      c.epoch !== 1,
  );
}

const describe = (c: TargetCount): string =>
  `${c.target}: card ${c.card}, stored ${c.stored}, audited ${c.audited}, accepted ${c.acceptedByEngines}, not sent ${c.notSent}, epoch ${c.epoch}`;

/** The summary rows of one round. */
export function roundRows(shape: LoadShape, r: RoundFigures): ReportRow[] {
  const seats = (shape.targets * shape.m).toLocaleString('en');
  const label = `${seats} custodians (${shape.targets} × ${shape.n}-of-${shape.m})`;
  const notes = `${r.model}; ${r.load}`;
  const status = (ok: boolean): ReportRow['status'] => (ok ? 'met' : 'missed');
  const p50 = r.latencies.length ? percentile(r.latencies, 50) : Number.NaN;
  const p99 = r.latencies.length ? percentile(r.latencies, 99) : Number.NaN;
  const bad = badCounts(r.counts);
  const wrong = bad.length + r.noQuorum.length;
  return [
    {
      measure: `${label}: n-th approval → quorum, p50`,
      result: fmtMs(p50),
      goal: '—',
      status: 'info',
      notes,
    },
    {
      measure: `${label}: n-th approval → quorum, p99`,
      result: r.noQuorum.length ? `${r.noQuorum.length} without quorum` : fmtMs(p99),
      goal: '≤ 1 s',
      status: status(r.noQuorum.length === 0 && p99 <= 1000),
      notes,
    },
    {
      measure: `${label}: server event-loop delay, p99 (max)`,
      result: `${fmtMs(r.eldP99Ms)} (${fmtMs(r.eldMaxMs)})`,
      goal: '≤ 100 ms',
      status: status(r.eldP99Ms <= 100),
      notes,
    },
    {
      measure: `${label}: server CPU per decision`,
      result: `${(r.serverCpuMs / Math.max(1, r.decisions)).toFixed(1)} ms`,
      goal: '—',
      status: 'info',
      notes: `${r.model}; ${r.commits} store commits for ${r.decisions} decisions`,
    },
    {
      measure: `${label}: approvals lost or double counted`,
      result: String(wrong),
      goal: '0',
      status: status(wrong === 0),
      notes: bad.length ? bad.map(describe).join('; ').slice(0, 300) : r.model,
    },
  ];
}

/** The stage's section of "How each figure is measured". */
export function loadSection(x: {
  readonly shape: LoadShape;
  readonly processes: number;
  readonly placement: TargetPlacement;
  readonly keys: number;
  readonly enrollMs: number;
  /** Server process CPU during the enrollments (chain checks, registrations, sessions). */
  readonly enrollServerCpuMs: number;
  readonly rounds: readonly RoundFigures[];
  readonly totalS: number;
}): string {
  const { shape } = x;
  const targets =
    x.placement === 'process'
      ? 'computing in a card process of their own (one IPC round trip per APDU), as USB devices compute on their own'
      : 'computing in the server process, so their crypto counts as server CPU';
  const lines = [
    '### Load: many custodians on one server',
    '',
    `The real server in one process with ${shape.targets} emulated targets, ${targets}, each ` +
      `initialized ${shape.n}-of-${shape.m}, and ${shape.targets * shape.m} real custodian ` +
      `engines (core/custodian/engine.ts, real WebSocket, one emulated card each) in ` +
      `${x.processes} child processes, so the server figures are the server process alone. ` +
      'One ceremony per target; when every custodian holds its offer, all approve at once. ' +
      `Custodian keys: ${x.keys} generated on cards, each seat signing on its own copy of one; ` +
      'custodian audit logs on a memory file system (each real custodian has a disk of their ' +
      'own); the offer-chain cache is shared per custodian process. Server: SQLite on disk, ' +
      '`synchronous=FULL`, group commit (the enrollments before the rounds, not measured, run ' +
      'with `synchronous=OFF`). One round per card model on the same enrolled world ' +
      '(the targets are locked between rounds).',
    '',
    `- n-th approval → quorum: from the moment decision no. ${shape.n} of a ceremony left its ` +
      "custodian's socket to the server's quorum record, per ceremony (nearest-rank p99 over " +
      `${shape.targets} ceremonies).`,
    '- Event-loop delay: `perf_hooks.monitorEventLoopDelay` (10 ms resolution) in the server ' +
      'process, from the go signal until every decision was answered.',
    '- CPU: server process user + system over the same window, per decision received.',
    '- Lost or double counted: per target, the card’s own count (`80 54`) must equal the ' +
      'approvals stored, the `approval` audit entries and the `accepted` results the custodians ' +
      'received, in the first epoch, with every decision sent.',
    '',
    `Enrollment of all seats (setup) took ${fmtMs(x.enrollMs)}, of which the server process ` +
      `used ${fmtMs(x.enrollServerCpuMs)} CPU; the stage ${x.totalS.toFixed(0)} s.`,
  ];
  for (const r of x.rounds) {
    const cards = r.counts.reduce((a, c) => a + c.card, 0);
    lines.push(
      `- ${r.model}: decisions left the custodians over ${fmtMs(r.spreadMs)} (their card ` +
        `signatures); all ${r.decisions} answered ${fmtMs(r.settleMs)} after the go; ` +
        `${r.commits} store commits; the cards counted ${cards} approvals; custodian processes ` +
        `used ${fmtMs(r.engineCpuMs)} CPU; ${r.load}.`,
    );
  }
  return lines.join('\n');
}

/** The rows as a markdown table (standalone runs). */
export function markdownTable(rows: readonly ReportRow[]): string {
  const lines = ['| measure | result | goal | status | notes |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.measure} | ${r.result} | ${r.goal} | ${r.status} | ${r.notes ?? ''} |`);
  }
  return lines.join('\n');
}
