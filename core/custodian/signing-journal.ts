/**
 * The custodian's signing journal (issue 11 item 8): durably record the intent, then let the
 * card sign, then record the outcome. An `intent` row is written and fsync'd before the script
 * (with its one SIGN) reaches the card; the card's results are written and fsync'd right after
 * it returns them (`signed`), or the run is closed without a signature (`aborted`: PIN wrong,
 * cancelled, card error before the script). On restart an offer whose intent exists is never
 * signed again: a `signed` row's stored results are resent unchanged, an intent without outcome
 * (killed between the card and the journal) is refused and the custodian told why.
 * Rows are keyed by offer id and also by the signed input (target device id ‖ challenge), so
 * a new offer id carrying an already-signed challenge is caught across restarts too.
 * File form: one JSON object per line, owner-only, append + fsync per row.
 * @module
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write';
import type { ScriptResult } from '../../shared/protocol/index';

/** Where an approval stands in the journal. */
export type JournalState = 'intent' | 'signed' | 'aborted';

/** One journal row (the latest row of an offer wins). */
export type JournalRow = {
  readonly offerId: string;
  readonly ceremonyId: string;
  /** Target device id and challenge (hex): the input the card signs. */
  readonly deviceId: string;
  readonly challenge: string;
  readonly state: JournalState;
  /** The card's answers (for `signed`): resent unchanged, never signed again. */
  readonly results?: readonly ScriptResult[];
  readonly expiresAt: string;
};

/** The journal. `record` throws when the row could not be made durable. */
export type SigningJournal = {
  record(row: JournalRow): void;
  /** The latest row for an offer id. */
  byOffer(offerId: string): JournalRow | undefined;
  /** The latest non-aborted row for a signed input (device id, challenge). */
  byInput(deviceId: string, challenge: string): JournalRow | undefined;
};

const rowSchema = z.strictObject({
  offerId: z.string().min(1).max(256),
  ceremonyId: z.string().min(1).max(256),
  deviceId: z.string().min(1).max(256),
  challenge: z.string().regex(/^[0-9a-fA-F]*$/),
  state: z.enum(['intent', 'signed', 'aborted']),
  results: z
    .array(
      z.union([
        z.strictObject({ rapdu: z.string() }),
        z.strictObject({
          blocked: z.strictObject({ sw: z.number(), rule: z.string(), reason: z.string() }),
        }),
      ]),
    )
    .max(64)
    .optional(),
  expiresAt: z.string(),
});

/** Most rows kept (bounded against a hostile server); oldest dropped first. */
const MAX_ROWS = 4096;
/** Rows are kept this long after their offer expired (a resend after a long outage). */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600_000;

const inputKey = (deviceId: string, challenge: string) =>
  `${JSON.stringify(deviceId)}:${challenge.toLowerCase()}`;

function index(rows: Map<string, JournalRow>, inputs: Map<string, JournalRow>, row: JournalRow) {
  rows.delete(row.offerId);
  rows.set(row.offerId, row);
  while (rows.size > MAX_ROWS) {
    const first = rows.keys().next();
    if (first.done) break;
    rows.delete(first.value);
  }
  const key = inputKey(row.deviceId, row.challenge);
  if (row.state === 'aborted') {
    if (inputs.get(key)?.offerId === row.offerId) inputs.delete(key);
  } else inputs.set(key, row);
  while (inputs.size > MAX_ROWS) {
    const first = inputs.keys().next();
    if (first.done) break;
    inputs.delete(first.value);
  }
}

/** A journal in memory only (tests, or an engine without a home). */
export function memorySigningJournal(): SigningJournal {
  const rows = new Map<string, JournalRow>();
  const inputs = new Map<string, JournalRow>();
  return {
    record: (row) => index(rows, inputs, row),
    byOffer: (id) => rows.get(id),
    byInput: (d, c) => inputs.get(inputKey(d, c)),
  };
}

/**
 * A file-backed journal at `path`. Invalid lines are skipped, except that a torn last line is
 * harmless: the row it would have added was never acted on (the card step follows the fsync).
 * Rows long past their offer's expiry are dropped when the file is opened.
 */
export function fileSigningJournal(
  path: string,
  now: () => Date = () => new Date(),
): SigningJournal {
  const rows = new Map<string, JournalRow>();
  const inputs = new Map<string, JournalRow>();
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let parsed;
      try {
        parsed = rowSchema.safeParse(JSON.parse(line));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      const exp = Date.parse(parsed.data.expiresAt);
      if (Number.isFinite(exp) && exp + KEEP_AFTER_EXPIRY_MS < now().getTime()) continue;
      index(rows, inputs, parsed.data as JournalRow);
    }
    // Compacted in place: a crash leaves the old journal or the new one, never a mix.
    writeFileAtomic(path, [...rows.values()].map((r) => JSON.stringify(r) + '\n').join(''));
  } else writeFileSync(path, '', { mode: 0o600 });
  return {
    record(row) {
      const fd = openSync(path, 'a', 0o600);
      try {
        writeSync(fd, JSON.stringify(row) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      index(rows, inputs, row);
    },
    byOffer: (id) => rows.get(id),
    byInput: (d, c) => inputs.get(inputKey(d, c)),
  };
}
