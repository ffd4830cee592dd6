/**
 * Small statistics for the benchmarks: nearest-rank percentiles over raw samples (no
 * interpolation, no outlier removal: a p99 is what one in a hundred samples really took).
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Summary of a sample set, in the samples' unit. */
export type Summary = {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
};

/** Nearest-rank percentile `p` (0–100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('no samples');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** p50, p99, min, max, mean of `values`. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('no samples');
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

/** Median of `values`. */
export const median = (values: readonly number[]): number => percentile(values, 50);

/** `1.234 ms` with a sensible number of digits. */
export function ms(value: number): string {
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(3)} ms`;
}

let gcFn: (() => void) | undefined;

/** Forces a full GC (exposing it at runtime when the process was started without --expose-gc). */
export function gc(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}
