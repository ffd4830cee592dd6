/**
 * Writes `manifest.json` for `custodian-server sign` without holding the entries in memory:
 * each signed file's entry goes to a JSON-lines spool file as soon as it is signed, and the
 * manifest is assembled from the spool at the end, chunk by chunk. Memory stays constant in
 * the number of files (issue target: "constant memory").
 * @module
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One manifest entry. */
export type ManifestEntry = {
  file: string;
  size: number;
  sha256: string;
  signature: string;
  signedAt: string;
};

/** A file this run did not sign, and why (manifest `notSigned`). */
export type NotSignedEntry = { file: string; reason: string };

/** A manifest being written. */
export type ManifestWriter = {
  /** Records one signed file. */
  add(entry: ManifestEntry): void;
  /** Files recorded so far. */
  readonly count: number;
  /**
   * Writes `manifest.json`: the `header` fields, then `files`, then `notSigned` when not
   * empty; removes the spool.
   */
  finish(header: Readonly<Record<string, unknown>>, notSigned: readonly NotSignedEntry[]): void;
  /** Removes the spool without writing a manifest. */
  discard(): void;
};

const CHUNK = 64 * 1024;

/** Starts a manifest in `outDir` (the spool is `outDir/.manifest-entries.jsonl`). */
export function openManifestWriter(outDir: string): ManifestWriter {
  const spoolPath = join(outDir, '.manifest-entries.jsonl');
  const spool = openSync(spoolPath, 'w+', 0o600);
  let count = 0;
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    closeSync(spool);
    rmSync(spoolPath, { force: true });
  };
  return {
    get count() {
      return count;
    },
    add(entry) {
      writeSync(spool, `${JSON.stringify(entry)}\n`);
      count += 1;
    },
    finish(header, notSigned) {
      const out = openSync(join(outDir, 'manifest.json'), 'w', 0o644);
      try {
        writeSync(out, '{\n');
        for (const [k, v] of Object.entries(header))
          writeSync(out, `  ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`);
        writeSync(out, '  "files": [');
        copyEntries(spool, out);
        writeSync(out, count > 0 ? '\n  ]' : ']');
        if (notSigned.length > 0) {
          writeSync(out, ',\n  "notSigned": [');
          notSigned.forEach((n, i) =>
            writeSync(out, `${i === 0 ? '' : ','}\n    ${JSON.stringify(n)}`),
          );
          writeSync(out, '\n  ]');
        }
        writeSync(out, '\n}\n');
      } finally {
        closeSync(out);
        close();
      }
    },
    discard: close,
  };
}

/** Copies the spooled JSON lines into the `files` array, one chunk at a time. */
function copyEntries(spool: number, out: number): void {
  const buf = Buffer.allocUnsafe(CHUNK);
  let position = 0;
  let rest = '';
  let first = true;
  const emit = (line: string) => {
    if (line === '') return;
    writeSync(out, `${first ? '' : ','}\n    ${line}`);
    first = false;
  };
  for (;;) {
    const n = readSync(spool, buf, 0, CHUNK, position);
    if (n === 0) break;
    position += n;
    const lines = (rest + buf.toString('utf8', 0, n)).split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(emit);
  }
  emit(rest);
}
