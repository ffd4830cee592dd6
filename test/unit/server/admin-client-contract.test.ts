/**
 * The admin CLI client validates every answer against the admin API contract
 * (server/api/admin-contract.ts): an answer of the wrong shape is an ApiContractError naming
 * the route and the first wrong field, never a value cast to the expected type.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_API } from '../../../server/api/admin-contract';
import { api, ApiContractError, ApiError, events } from '../../../server/admin-cli/admin-client';

let http: Server | undefined;
afterEach(() => new Promise<void>((r) => (http ? http.close(() => r()) : r())));

/** A fake server answering every request with `status` and `text` (as `type`). */
async function fake(status: number, text: string, type = 'application/json'): Promise<string> {
  http = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': type }).end(text));
  });
  await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}
const target = (url: string) => ({ url, token: 't', ca: undefined });

const snapshot = {
  id: 'c1',
  target: 't1',
  state: 'collecting',
  purpose: 'p',
  requester: 'r',
  expiresAt: '2026-01-01T00:00:00Z',
  quorum: { n: 2, m: 3 },
  progress: { authenticated: 0, approvedBy: [] },
};

describe('admin client contract', () => {
  it('returns an answer that matches the contract, extra fields kept', async () => {
    const url = await fake(200, JSON.stringify({ ...snapshot, extra: 1 }));
    const s = await api(target(url), ADMIN_API.ceremony, '/api/ceremonies/c1');
    expect(s.quorum).toEqual({ n: 2, m: 3 });
    expect(s['extra']).toBe(1);
  });

  it.each([
    ['a missing field', { ...snapshot, quorum: undefined }, /quorum/],
    [
      'a field of the wrong type',
      { ...snapshot, progress: { authenticated: '1', approvedBy: [] } },
      /progress\.authenticated/,
    ],
    ['an array instead of an object', [snapshot], /expected object/],
    ['an empty body', null, /id: /],
  ])('refuses %s with ApiContractError', async (_what, body, field) => {
    const url = await fake(200, body === null ? '' : JSON.stringify(body));
    const p = api(target(url), ADMIN_API.ceremony, '/api/ceremonies/c1');
    await expect(p).rejects.toBeInstanceOf(ApiContractError);
    await expect(p).rejects.toThrow(/GET \/api\/ceremonies\/c1 does not match the admin API/);
    await expect(p).rejects.toThrow(field);
  });

  it('checks every route it is used with (key info, audit, PKCS#11 clients)', async () => {
    const url = await fake(200, JSON.stringify({ id: '1', publicKeyPem: 'x', deviceId: 'd' }));
    await expect(api(target(url), ADMIN_API.key, '/api/targets/t1/keys/1')).rejects.toThrow(/id:/);
    await expect(api(target(url), ADMIN_API.audit, '/api/audit?limit=5')).rejects.toThrow(
      ApiContractError,
    );
    await expect(
      api(target(url), ADMIN_API.listPkcs11Clients, '/api/pkcs11-clients'),
    ).rejects.toThrow(/clients/);
  });

  it('error answers stay ApiError with the server message', async () => {
    const url = await fake(409, JSON.stringify({ error: 'target t1 is locked' }));
    const p = api(target(url), ADMIN_API.lock, '/api/targets/t1/lock');
    await expect(p).rejects.toBeInstanceOf(ApiError);
    await expect(p).rejects.toThrow('target t1 is locked');
  });

  it('refuses a path that is not one of the route', async () => {
    await expect(
      api(target('http://127.0.0.1:9'), ADMIN_API.ceremony, '/api/targets/t1'),
    ).rejects.toThrow(/not a path of GET \/api\/ceremonies\/:id/);
  });

  it('validates each server-sent event', async () => {
    const url = await fake(
      200,
      `data: ${JSON.stringify(snapshot)}\n\ndata: {"id":"c1"}\n\n`,
      'text/event-stream',
    );
    const seen: string[] = [];
    await expect(
      events(target(url), ADMIN_API.ceremonyEvents, '/api/ceremonies/c1/events', (d) =>
        seen.push(d.state),
      ),
    ).rejects.toThrow(ApiContractError);
    expect(seen).toEqual(['collecting']);
  });
});
