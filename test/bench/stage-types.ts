/**
 * The contract between `test/bench/run.ts` and a benchmark stage written on its own (the load
 * stage in test/bench/load.ts, the signing shapes in test/bench/signing-shapes.ts): a stage takes
 * {@link StageOptions} and resolves with a {@link StageResult}; run.ts puts its rows in the
 * report's summary table and its section under "How each figure is measured". A stage never
 * decides its own layout, and never prints a figure it did not measure: a goal it cannot reach
 * is a `missed` row, not an omitted one.
 * @module
 */

/** Whether a measured figure reaches its goal; `info` for figures that have no goal. */
export type ReportStatus = 'met' | 'missed' | 'info';

/** One line of the report's summary table. */
export type ReportRow = {
  /** What is measured, e.g. "1,000 custodians, n-th approval → quorum, p99". */
  readonly measure: string;
  /** The measured figure, formatted, e.g. "412 ms". */
  readonly result: string;
  /** The goal, e.g. "≤ 1 s" (issue 12), or "—" for an `info` row. */
  readonly goal: string;
  readonly status: ReportStatus;
  /** Short qualifier shown in the table (e.g. "card model", "load 3.1"). */
  readonly notes?: string;
};

/** A card-latency model, in milliseconds per command class (see emulator/latency-transport.ts). */
export type CardLatencyOptions = {
  /** Any APDU without a class of its own (SELECT, GET CHALLENGE, MSE, READ BINARY…). */
  readonly simpleMs: number;
  /** VERIFY (INS 20), e.g. the PIN. */
  readonly verifyPinMs: number;
  /** PSO / SIGN (INS 68), an ECDSA signature on the card. */
  readonly signMs: number;
  /** EXTERNAL AUTHENTICATE (INS 82): the card verifies a PKA signature. */
  readonly externalAuthenticateMs: number;
  /** A warm reset or a release with reset. */
  readonly resetMs: number;
};

/** What run.ts hands every stage. */
export type StageOptions = {
  /** `npm run bench -- --quick`: small sample sizes that only check the machinery. */
  readonly quick: boolean;
  /**
   * The card-latency models this run reports at: always a zero model (in-process cards as
   * fast as they go) and the default card model. A stage reports each figure at both.
   */
  readonly cardModels: readonly { readonly name: string; readonly latency: CardLatencyOptions }[];
  /** Progress lines for the person running the bench (stderr); not part of the report. */
  say(text: string): void;
};

/** What a stage resolves with. */
export type StageResult = {
  /** Rows for the summary table, in the order they should appear. */
  readonly rows: readonly ReportRow[];
  /**
   * Free-form markdown for the stage's part of "How each figure is measured": starts with a
   * `### ` heading, explains method, sample counts and the formula behind each goal.
   */
  readonly section: string;
};

/** A stage as run.ts lists it (test/bench/stages.ts). */
export type BenchStage = {
  /** Short name for progress lines, e.g. "load (1,000 custodians)". */
  readonly name: string;
  run(opts: StageOptions): Promise<StageResult>;
};
