/**
 * Custodians: one row per registered custodian key at one target.
 * @module
 */
import { stmt, type Db } from './db';

/** A registered custodian. */
export type Custodian = {
  readonly id: string;
  readonly name: string;
  readonly target: string;
  /** CHR of the custodian key (`5F20` of the registered request), the key's name at the target. */
  readonly keyChr: string;
  /** Key id of the custodian key on the custodian's own card, once known. */
  readonly keyId: number | undefined;
  /** The `.pka` file as received. */
  readonly pka: Uint8Array;
  /** Whether the custodian has a session credential (has connected and enrolled). */
  readonly hasCredential: boolean;
  readonly enrolledAt: string;
};

type Row = {
  id: string;
  name: string;
  target: string;
  key_chr: string;
  key_id: number | null;
  pka: Uint8Array;
  credential_hash: string | null;
  enrolled_at: string;
};

const fromRow = (r: Row): Custodian => ({
  id: r.id,
  name: r.name,
  target: r.target,
  keyChr: r.key_chr,
  keyId: r.key_id ?? undefined,
  pka: new Uint8Array(r.pka),
  hasCredential: r.credential_hash !== null,
  enrolledAt: r.enrolled_at,
});

/** Custodian table access. */
export class CustodianStore {
  constructor(private readonly db: Db) {}

  /** Inserts a custodian; throws on a duplicate name or key CHR at the target. */
  insert(c: {
    id: string;
    name: string;
    target: string;
    keyChr: string;
    keyId?: number;
    pka: Uint8Array;
    credentialHash?: string;
    enrolledAt: string;
  }): void {
    stmt(
      this.db,
      `INSERT INTO custodians (id, name, target, key_chr, key_id, pka, credential_hash, enrolled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      c.id,
      c.name,
      c.target,
      c.keyChr,
      c.keyId ?? null,
      Buffer.from(c.pka),
      c.credentialHash ?? null,
      c.enrolledAt,
    );
  }

  /** Sets the credential hash and key id of a custodian (first connection after admin registration). */
  setCredential(id: string, credentialHash: string, keyId: number): void {
    stmt(this.db, 'UPDATE custodians SET credential_hash = ?, key_id = ? WHERE id = ?').run(
      credentialHash,
      keyId,
      id,
    );
  }

  get(id: string): Custodian | undefined {
    const r = stmt(this.db, 'SELECT * FROM custodians WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** The custodian whose credential hashes to `credentialHash`. */
  byCredentialHash(credentialHash: string): Custodian | undefined {
    const r = stmt(this.db, 'SELECT * FROM custodians WHERE credential_hash = ?').get(
      credentialHash,
    ) as Row | undefined;
    return r && fromRow(r);
  }

  byName(target: string, name: string): Custodian | undefined {
    const r = stmt(this.db, 'SELECT * FROM custodians WHERE target = ? AND name = ?').get(
      target,
      name,
    ) as Row | undefined;
    return r && fromRow(r);
  }

  byKeyChr(target: string, keyChr: string): Custodian | undefined {
    const r = stmt(this.db, 'SELECT * FROM custodians WHERE target = ? AND key_chr = ?').get(
      target,
      keyChr,
    ) as Row | undefined;
    return r && fromRow(r);
  }

  /** All custodians of a target, oldest first. */
  forTarget(target: string): Custodian[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM custodians WHERE target = ? ORDER BY enrolled_at, id',
    ).all(target) as Row[];
    return rows.map(fromRow);
  }
}
