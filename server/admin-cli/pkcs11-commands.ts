/**
 * `custodian-server pkcs11-client create|list|revoke`: the credentials PKCS#11 modules use to
 * talk to the server's module socket (docs/pkcs11.md "Clients").
 * @module
 */
import { ADMIN_API } from '../api/admin-contract';
import { api, type Connected } from './admin-client';
import type { CliIo } from './errors';

/** `pkcs11-client create --name N`: prints the credential once. */
export async function pkcs11ClientCreate(
  o: Connected & { name: string; json?: boolean },
  io: CliIo,
) {
  const r = await api(o.conn, ADMIN_API.createPkcs11Client, '/api/pkcs11-clients', {
    name: o.name,
  });
  if (o.json) return io.out(`${JSON.stringify(r)}\n`);
  io.out(`PKCS#11 client ${r.client.name} created (${r.client.id}).\n`);
  io.out(`credential (shown once; give it to the module, see docs/pkcs11.md): ${r.credential}\n`);
}

/** `pkcs11-client list`. */
export async function pkcs11ClientList(o: Connected & { json?: boolean }, io: CliIo) {
  const r = await api(o.conn, ADMIN_API.listPkcs11Clients, '/api/pkcs11-clients');
  if (o.json) return io.out(`${JSON.stringify(r.clients)}\n`);
  for (const c of r.clients) {
    io.out(`${c.name}\t${c.createdAt}\t${c.revokedAt ? `revoked ${c.revokedAt}` : 'active'}\n`);
  }
}

/** `pkcs11-client revoke --name N`. */
export async function pkcs11ClientRevoke(o: Connected & { name: string }, io: CliIo) {
  const r = await api(
    o.conn,
    ADMIN_API.revokePkcs11Client,
    `/api/pkcs11-clients/${encodeURIComponent(o.name)}/revoke`,
  );
  io.out(`PKCS#11 client ${r.client.name} revoked at ${r.client.revokedAt ?? '?'}\n`);
}
