/**
 * Enrollment: only a `.pka` whose device chain leads to a configured trust anchor and whose
 * key the device attested is registered (docs/card-reference.md §6.5); tokens are single-use and expire.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../server/app';
import { generateTestCa } from '../../../emulator/ca/test-ca';
import { toHex } from '../../../shared/codec/bytes';
import { encodeTlv } from '../../../shared/codec/tlv';
import { parseAuthenticatedRequest } from '../../../shared/cvc/cvc';
import { encodePkaFile, parsePkaFile } from '../../../shared/pka/pka-file';
import { unwrap } from '../../../shared/result';
import type { ErrorMessage, ServerMessage } from '../../../shared/protocol';
import {
  adminApi,
  custodianCard,
  dataDir,
  ScriptedCustodian,
  startTestServer,
  targetCard,
  type CustodianCard,
  type TargetHandle,
} from './harness';

let server: RunningServer | undefined;
const clients: ScriptedCustodian[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

let good: CustodianCard;
beforeAll(async () => {
  good = await custodianCard();
});

const isAuthError = (m: ServerMessage): m is ErrorMessage =>
  m.type === 'error' && m.code === 'auth-failed';

async function setup(now?: { t: number }) {
  const target: TargetHandle = { card: await targetCard(3, 2), opens: 0, fail: false };
  server = await startTestServer(
    target,
    dataDir(),
    {},
    now ? { clock: () => new Date(now.t) } : {},
  );
  return target;
}

async function token(name = 'alice', expiresInSeconds?: number): Promise<string> {
  const r = await adminApi<{ token: string }>(server!, 'POST', '/api/enrollments', {
    target: 't1',
    name,
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  });
  expect(r.status).toBe(201);
  return r.body.token;
}

async function tryEnroll(cust: CustodianCard, tok: string) {
  const c = new ScriptedCustodian(server!, cust);
  clients.push(c);
  await c.connect(tok);
  return c;
}

const missing = async () =>
  (await adminApi<{ pka: { missing: number } }>(server!, 'GET', '/api/targets/t1')).body.pka
    .missing;

/** A .pka with the outer (attestation) signature broken. */
function tamperedAttestation(pka: Uint8Array): Uint8Array {
  const f = unwrap(parsePkaFile(pka));
  const sig = f.request.outerSignature.slice();
  sig[5]! ^= 0x40;
  const req = encodeTlv(
    0x67,
    f.request.inner.encoded,
    f.request.outerCarTlv,
    encodeTlv(0x5f37, sig),
  );
  return encodePkaFile({ ...f, request: unwrap(parseAuthenticatedRequest(req)) });
}

describe('enrollment', () => {
  it('a good .pka is checked, registered at the target and gets a credential', async () => {
    await setup();
    expect(await missing()).toBe(3);
    const c = await tryEnroll(good, await token());
    const w = await c.waitFor((m) => m.type === 'welcome');
    expect(w.type === 'welcome' && w.credential).toBeTruthy();
    expect(await missing()).toBe(2);
    const audit = (
      await adminApi<{ entries: Array<{ event: string }> }>(server!, 'GET', '/api/audit')
    ).body;
    expect(audit.entries.map((e) => e.event)).toContain('enrollment-completed');
  });

  it('a device chain from an untrusted root is refused and nothing is registered', async () => {
    await setup();
    const foreign = await custodianCard(generateTestCa());
    const c = await tryEnroll(foreign, await token());
    const e = await c.waitFor(isAuthError);
    expect(e.message).toMatch(/chain/i);
    expect((await c.waitClosed()).code).toBe(4001);
    expect(await missing()).toBe(3);
  });

  it('a broken key attestation is refused', async () => {
    await setup();
    const bad = { ...good, pka: tamperedAttestation(good.pka) };
    expect(toHex(bad.pka)).not.toBe(toHex(good.pka));
    const c = await tryEnroll(bad, await token());
    expect((await c.waitFor(isAuthError)).message).toMatch(/attestation/);
    expect(await missing()).toBe(3);
  });

  it('a used token is refused; so is the same key under another name', async () => {
    await setup();
    const tok = await token();
    const first = await tryEnroll(good, tok);
    await first.waitFor((m) => m.type === 'welcome');
    const again = await tryEnroll(good, tok);
    expect((await again.waitFor(isAuthError)).message).toMatch(/already used/);
    const other = await tryEnroll(good, await token('mallory'));
    expect((await other.waitFor(isAuthError)).message).toMatch(/already registered/);
    expect(await missing()).toBe(2);
  });

  it('an expired token is refused', async () => {
    const now = { t: Date.now() };
    await setup(now);
    const tok = await token('alice', 60);
    now.t += 61_000;
    const c = await tryEnroll(good, tok);
    expect((await c.waitFor(isAuthError)).message).toMatch(/expired/);
    expect(await missing()).toBe(3);
  });

  it('an unreachable target does not use the token up; the client may retry (1011)', async () => {
    const target: TargetHandle = { card: await targetCard(3, 2), opens: 0, fail: true };
    server = await startTestServer(target, dataDir());
    const tok = await token();
    const c = await tryEnroll(good, tok);
    const e = await c.waitFor((m): m is ErrorMessage => m.type === 'error');
    expect(e.code).toBe('internal-error');
    expect((await c.waitClosed()).code).toBe(1011);
    target.fail = false;
    const again = await tryEnroll(good, tok);
    await again.waitFor((m) => m.type === 'welcome');
    expect(await missing()).toBe(2);
  });

  it('an unknown token or credential closes with 4001', async () => {
    await setup();
    const c = await tryEnroll(good, 'A'.repeat(43));
    expect((await c.waitClosed()).code).toBe(4001);
    const s = new ScriptedCustodian(server!, good);
    clients.push(s);
    s.custodianId = 'cus-0000000000000000';
    s.credential = 'B'.repeat(43);
    await s.connect();
    expect((await s.waitClosed()).code).toBe(4001);
  });

  it('admin registration (enroll pka) verifies first; the custodian then enrolls with the same .pka only', async () => {
    await setup();
    const bad = await adminApi(server!, 'POST', '/api/targets/t1/custodians', {
      name: 'x',
      pka: toHex(tamperedAttestation(good.pka)),
    });
    expect(bad.status).toBe(422);
    expect(await missing()).toBe(3);
    const r = await adminApi<{ invite: { token: string }; custodian: { keyChr: string } }>(
      server!,
      'POST',
      '/api/targets/t1/custodians',
      { name: 'alice', pka: toHex(good.pka) },
    );
    expect(r.status).toBe(201);
    expect(r.body.custodian.keyChr).toBe(good.chr);
    expect(await missing()).toBe(2);
    const other = await custodianCard();
    const wrong = await tryEnroll(other, r.body.invite.token);
    expect((await wrong.waitFor(isAuthError)).message).toMatch(/not the one/);
    // A refused attempt does not use the token up.
    const right = await tryEnroll(good, r.body.invite.token);
    await right.waitFor((m) => m.type === 'welcome');
    expect(await missing()).toBe(2);
  });
});
