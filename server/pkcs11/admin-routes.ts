/**
 * Admin API for PKCS#11 clients (`Authorization: Bearer <admin token>`, like every `/api/…`):
 * `POST /api/pkcs11-clients {name}` issues a credential (answered once, stored hashed),
 * `GET /api/pkcs11-clients` lists, `POST /api/pkcs11-clients/:name/revoke` revokes.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMIN_API, pathPattern } from '../api/admin-contract';
import { HttpError, readJson, reply } from '../api/http-util';
import type { Store } from '../store/store';
import { Pkcs11ClientError, type Pkcs11ClientStore } from './client-store';

const createSchema = ADMIN_API.createPkcs11Client.request;
const revokePath = pathPattern(ADMIN_API.revokePkcs11Client.path);

const STATUS: Record<Pkcs11ClientError['code'], number> = {
  invalid: 400,
  duplicate: 409,
  'not-found': 404,
};

/** Handles `/api/pkcs11-clients…`; false when the path is not one of them. */
export async function pkcs11Route(
  store: Store,
  clients: Pkcs11ClientStore,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  try {
    if (path === '/api/pkcs11-clients' && req.method === 'GET') {
      reply(res, ADMIN_API.listPkcs11Clients, 200, { clients: clients.list() });
      return true;
    }
    if (path === '/api/pkcs11-clients' && req.method === 'POST') {
      const body = createSchema.safeParse(await readJson(req));
      if (!body.success) throw new HttpError(400, `name: ${body.error.issues[0]?.message ?? ''}`);
      const { client, credential } = clients.create(body.data.name);
      store.audit.append('pkcs11-client-created', { client: client.name, id: client.id });
      reply(res, ADMIN_API.createPkcs11Client, 201, { client, credential });
      return true;
    }
    const m = revokePath.exec(path);
    if (m && req.method === 'POST') {
      const client = clients.revoke(decodeURIComponent(m[1]!));
      store.audit.append('pkcs11-client-revoked', { client: client.name, id: client.id });
      reply(res, ADMIN_API.revokePkcs11Client, 200, { client });
      return true;
    }
  } catch (e) {
    if (e instanceof Pkcs11ClientError) throw new HttpError(STATUS[e.code], e.message);
    throw e;
  }
  return false;
}
