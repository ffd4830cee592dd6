/**
 * CLI failures: one line on stderr and an exit code (0 ok, 1 failure, 2 user error).
 * @module
 */

/** Exit codes of custodian-server. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** A mistake the user can fix (arguments, files, a request the server refused); exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Output sinks (tests capture them). */
export type CliIo = { out(text: string): void; err(text: string): void };

/** The process's stdout/stderr. */
export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};
