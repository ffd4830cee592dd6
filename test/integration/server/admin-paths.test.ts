/**
 * Issue 7 item 13: path parameters of the admin API are client input. A malformed `%` escape,
 * an escape that is not UTF-8, or an over-long parameter is answered 400 with a one-line log
 * (no stack trace, no 500) on EVERY route that has path parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import { dataDir, startTestServer, targetCard } from './harness';

let server: RunningServer;
const logs: string[] = [];
beforeAll(async () => {
  server = await startTestServer(
    { card: await targetCard(3, 2), opens: 0, fail: false },
    dataDir(),
    {},
    { log: (l) => logs.push(l) },
  );
});
afterAll(async () => server?.stop());

/** Every route with path parameters; `:p` marks each parameter. */
const ROUTES: Array<[string, string]> = [
  ['GET', '/api/targets/:p'],
  ['POST', '/api/targets/:p/initialize'],
  ['GET', '/api/targets/:p/keys'],
  ['POST', '/api/targets/:p/keys'],
  ['GET', '/api/targets/:p/keys/1'],
  ['GET', '/api/targets/t1/keys/:p'],
  ['POST', '/api/targets/:p/sign'],
  ['POST', '/api/targets/:p/lock'],
  ['POST', '/api/targets/:p/custodians'],
  ['GET', '/api/ceremonies/:p'],
  ['GET', '/api/ceremonies/:p/events'],
  ['POST', '/api/ceremonies/:p/cancel'],
];

const BAD = ['%', '%E', '%zz', 'a%2', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', 'x'.repeat(300)];

async function call(method: string, path: string) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

describe('7.13 admin path parameters', () => {
  it('7.13 malformed escapes and over-long parameters: 400 and one log line, on every route', async () => {
    for (const [method, template] of ROUTES) {
      for (const bad of BAD) {
        const path = template.replace(':p', bad);
        const before = logs.length;
        const r = await call(method, path);
        expect({ path, status: r.status }).toEqual({ path, status: 400 });
        expect(r.body.error).toMatch(/percent-escape|longer than/);
        const lines = logs.slice(before);
        expect(lines).toHaveLength(1);
        expect(lines[0]).not.toContain('\n');
        expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/);
      }
    }
  });

  it('7.13 a well-formed escape is decoded exactly once (a key label may contain "%")', async () => {
    const r = await call('GET', '/api/targets/t1/keys/%25zz');
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('no key "%zz" on the target');
    expect((await call('GET', '/api/targets/t%31')).status).toBe(200);
  });
});
