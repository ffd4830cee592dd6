/**
 * PKCS#11 clients: build machines the admin allowed to use the module socket. Each has a name
 * and a signing credential issued once (`custodian-server pkcs11-client create`); only its
 * SHA-256 is stored (server/store/secrets.ts), so a stolen database grants nothing.
 *
 * The table lives in the server database but is created here (`IF NOT EXISTS`) rather than as a
 * numbered migration, so the module socket stays an add-on of the store.
 * @module
 */
import { stmt, type Db } from '../store/db';
import { hashSecret, isWellFormedSecret, newId, newSecret } from '../store/secrets';

/** A registered PKCS#11 client. */
export type Pkcs11Client = {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly revokedAt: string | undefined;
};

type Row = { id: string; name: string; created_at: string; revoked_at: string | null };

const fromRow = (r: Row): Pkcs11Client => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  revokedAt: r.revoked_at ?? undefined,
});

/** Client names: like target names (docs/pkcs11.md "Clients"). */
export const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why a client could not be created or revoked. */
export class Pkcs11ClientError extends Error {
  override readonly name = 'Pkcs11ClientError';
  constructor(
    readonly code: 'invalid' | 'duplicate' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

/** The `pkcs11_clients` table. */
export class Pkcs11ClientStore {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS pkcs11_clients (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      credential_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    )`);
  }

  /** Creates a client; the credential is returned here once and never stored in clear. */
  create(name: string): { client: Pkcs11Client; credential: string } {
    if (!CLIENT_NAME.test(name)) {
      throw new Pkcs11ClientError('invalid', 'client name: 1–64 letters, digits, ".", "_" or "-"');
    }
    if (stmt(this.db, 'SELECT 1 FROM pkcs11_clients WHERE name = ?').get(name)) {
      throw new Pkcs11ClientError('duplicate', `a PKCS#11 client "${name}" exists`);
    }
    const credential = newSecret();
    const row: Row = {
      id: newId('p11'),
      name,
      created_at: this.clock().toISOString(),
      revoked_at: null,
    };
    stmt(
      this.db,
      'INSERT INTO pkcs11_clients (id, name, credential_hash, created_at) VALUES (?, ?, ?, ?)',
    ).run(row.id, name, hashSecret(credential), row.created_at);
    return { client: fromRow(row), credential };
  }

  /** The active client holding `credential`, or undefined (malformed, unknown or revoked). */
  authenticate(credential: unknown): Pkcs11Client | undefined {
    if (!isWellFormedSecret(credential)) return undefined;
    const r = stmt(
      this.db,
      'SELECT id, name, created_at, revoked_at FROM pkcs11_clients WHERE credential_hash = ? AND revoked_at IS NULL',
    ).get(hashSecret(credential)) as Row | undefined;
    return r && fromRow(r);
  }

  /** Revokes a client by name: its credential stops working at once. */
  revoke(name: string): Pkcs11Client {
    const r = stmt(
      this.db,
      'UPDATE pkcs11_clients SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING id, name, created_at, revoked_at',
    ).get(this.clock().toISOString(), name) as Row | undefined;
    if (!r) throw new Pkcs11ClientError('not-found', `no active PKCS#11 client "${name}"`);
    return fromRow(r);
  }

  /** All clients, oldest first. */
  list(): Pkcs11Client[] {
    return (
      stmt(
        this.db,
        'SELECT id, name, created_at, revoked_at FROM pkcs11_clients ORDER BY created_at',
      ).all() as Row[]
    ).map(fromRow);
  }
}
