/**
 * Targets whose card and store disagree about the registered PKA keys (issue 7 item 1): a key
 * on the card that the store does not know could count towards a quorum nobody approved, so
 * the disagreement is recorded durably and blocks ceremonies and enrollments at that target
 * until an operator reconciles it (`custodian-server target reconcile`).
 * @module
 */
import { stmt, type Db } from './db';

/** What the card and the store said when they disagreed. */
export type Inconsistency = {
  readonly target: string;
  /** `inconsistent`: blocks the target; `acknowledged`: an operator accepted this exact state. */
  readonly state: 'inconsistent' | 'acknowledged';
  readonly detail: string;
  readonly since: string;
  /** Keys registered on the card (m − missing), when the card could be read. */
  readonly registeredOnCard: number | undefined;
  /** Custodian keys the store knows at this target. */
  readonly knownToServer: number;
  /** CHRs on the card the store does not know, when the card can enumerate them. */
  readonly unknownKeys: readonly string[] | undefined;
};

type Row = {
  target: string;
  state: 'inconsistent' | 'acknowledged';
  detail: string;
  since: string;
  registered_on_card: number | null;
  known_to_server: number;
  unknown_keys: string | null;
};

const fromRow = (r: Row): Inconsistency => ({
  target: r.target,
  state: r.state,
  detail: r.detail,
  since: r.since,
  registeredOnCard: r.registered_on_card ?? undefined,
  knownToServer: r.known_to_server,
  unknownKeys: r.unknown_keys === null ? undefined : (JSON.parse(r.unknown_keys) as string[]),
});

/** Access to the `target_consistency` table. */
export class ConsistencyStore {
  constructor(private readonly db: Db) {}

  /** The recorded disagreement at `target`, if any. */
  get(target: string): Inconsistency | undefined {
    const r = stmt(this.db, 'SELECT * FROM target_consistency WHERE target = ?').get(target) as
      Row | undefined;
    return r && fromRow(r);
  }

  /** Records (or replaces) a disagreement in the given state. */
  set(i: Inconsistency): void {
    stmt(
      this.db,
      `INSERT OR REPLACE INTO target_consistency
         (target, state, detail, since, registered_on_card, known_to_server, unknown_keys)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      i.target,
      i.state,
      i.detail,
      i.since,
      i.registeredOnCard ?? null,
      i.knownToServer,
      i.unknownKeys === undefined ? null : JSON.stringify(i.unknownKeys),
    );
  }

  /** Forgets the record: card and store agree again. */
  clear(target: string): void {
    stmt(this.db, 'DELETE FROM target_consistency WHERE target = ?').run(target);
  }
}
