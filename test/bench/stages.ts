/**
 * The stages run.ts runs after its own ceremony, relay and idle figures, in this order. A stage
 * written elsewhere (the load stage, the signing shapes) is added here by importing its runner
 * and listing it; its result type is fixed by test/bench/stage-types.ts.
 * @module
 */
import { runLoadStage } from './load';
import { runSigningShapes } from './signing-shapes';
import type { BenchStage } from './stage-types';

/** Extra stages, run in order; their rows follow the built-in ones in the report. */
export const EXTRA_STAGES: readonly BenchStage[] = [
  { name: 'signing shapes', run: runSigningShapes },
  { name: 'load (1,000 custodians)', run: (opts) => runLoadStage(opts) },
];
