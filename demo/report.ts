/**
 * The demo's narration: numbered steps, each with what happens and why, then indented facts.
 * Output goes to a sink (stdout for `npm run demo`, a buffer in the integration test).
 * @module
 */
import type { PkaStatus } from '../shared/sc-hsm/pka';

/** Where the narration goes. */
export type ReportSink = (text: string) => void;

/** Narrates the demo. */
export type Reporter = {
  /** Starts step N+1: a title and why it matters. */
  step(title: string, why: string): void;
  /** A fact inside the current step. */
  info(line: string): void;
  /** A check that passed. */
  ok(line: string): void;
  /** Something the reader must not overlook (test PKI, missing tools). */
  warn(line: string): void;
  /** Number of steps so far. */
  readonly steps: number;
};

/** Creates a reporter writing to `sink`. `color` adds ANSI emphasis (TTY only). */
export function createReporter(sink: ReportSink, color = false): Reporter {
  let n = 0;
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    step(title, why) {
      n += 1;
      sink(`\n${paint('1', `[${String(n).padStart(2, ' ')}] ${title}`)}\n`);
      sink(`     ${paint('2', `why: ${why}`)}\n`);
    },
    info: (line) => sink(`     ${line}\n`),
    ok: (line) => sink(`     ${paint('32', 'ok')}  ${line}\n`),
    warn: (line) => sink(`     ${paint('1;33', '!!')}  ${line}\n`),
    get steps() {
      return n;
    },
  };
}

/** `m=5 missing=0 n=3 authenticated=2` — the four bytes of `80 54` (docs/card-reference.md §6.4). */
export function formatPka(s: PkaStatus | undefined): string {
  if (!s) return 'not configured for PKA';
  return `m=${s.m} missing=${s.missing} n=${s.n} authenticated=${s.authenticated}`;
}
