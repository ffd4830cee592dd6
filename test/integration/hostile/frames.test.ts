/**
 * A hostile server sending oversize and malformed frames (docs/protocol.md §2, §10) to the REAL
 * engine: nothing is parsed into an offer, every bad frame is audited, the connection is closed
 * as a protocol violation (no automatic reconnect) or for the oversize frame, the process neither
 * crashes nor hangs, the card is never touched and the audit chain verifies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../../shared/protocol/index';
import { hostileSession, type HostileSession } from './session';
import { expectCleanTrail, offerFor } from './world';

const sessions: HostileSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) {
    s.engine.stop();
    s.audit.close();
    await s.server.close();
  }
});

async function session(): Promise<HostileSession> {
  const s = await hostileSession();
  sessions.push(s);
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The connection the engine reports as stopped (no reconnect). */
async function stopped(s: HostileSession) {
  const e = await s.next(
    (x) => x.type === 'connection' && x.state.kind === 'stopped',
    'stopped connection',
  );
  return e.type === 'connection' && e.state.kind === 'stopped' ? e.state : undefined;
}

/** After the bad frames: no offer added, card untouched, no second connection, trail clean. */
async function expectNothingHappened(s: HostileSession, offerIds: string[]) {
  // Longer than the engine's reconnect back-off (≤ 200 ms here): it must not come back.
  await sleep(600);
  expect(s.server.sockets).toHaveLength(1);
  for (const id of offerIds) {
    expect(s.events.some((e) => e.type === 'offer-added' && e.offer.offerId === id)).toBe(false);
  }
  expect(s.engine.offers().filter((o) => o.phase === 'pending')).toEqual([]);
  s.expectCardUntouched();
  await expectCleanTrail(s.auditPath, s.server);
}

describe('hostile server: frames', () => {
  it('an oversize frame (a padded offer) closes the connection before parsing', async () => {
    const s = await session();
    const from = s.auditCount();
    const offer = offerFor(s.target, s.key);
    const padded = JSON.stringify({ ...offer, purpose: 'A'.repeat(LIMITS.frameBytes) });
    expect(Buffer.byteLength(padded)).toBeGreaterThan(LIMITS.frameBytes);
    s.server.sendRaw(padded);
    const closed = await s.server.current().closed;
    // RFC 6455 1009 "message too big" from the client (the ws library's maxPayload).
    expect(closed.code).toBe(1009);
    const state = await stopped(s);
    expect(state?.reason).toMatch(/1009/);
    await expectNothingHappened(s, [offer.offerId]);
    const audit = s.auditSince(from);
    expect(audit.filter((l) => l.kind === 'error').map((l) => l.data)).toEqual([
      { what: 'invalid-frame', code: 'not-text', count: 1 },
    ]);
    const conn = audit.filter((l) => l.kind === 'connection');
    expect(conn.at(-1)?.data).toMatchObject({ state: 'stopped' });
    expect(String(conn.at(-1)?.data['reason'])).toMatch(/1009/);
  });

  it('garbage JSON, a binary frame and deeply nested JSON: audited, then closed 4002', async () => {
    const s = await session();
    const from = s.auditCount();
    s.server.sendRaw('{"v":1,"type":"offer",');
    s.server.sendRaw(new TextEncoder().encode(JSON.stringify(offerFor(s.target, s.key))));
    // Valid JSON nested 10 000 deep inside an offer-shaped frame (just under the size limit).
    const deep = `{"v":1,"type":"offer","x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    expect(deep.length).toBeLessThan(LIMITS.frameBytes);
    s.server.sendRaw(deep);
    const closed = await s.server.current().closed;
    expect(closed.code).toBe(4002);
    const state = await stopped(s);
    expect(state?.reason).toMatch(/invalid frames/);
    const bad = s.auditSince(from).filter((l) => l.kind === 'error');
    expect(bad.map((l) => [l.data['what'], l.data['count']])).toEqual([
      ['invalid-frame', 1],
      ['invalid-frame', 2],
      ['invalid-frame', 3],
    ]);
    expect(s.events.filter((e) => e.type === 'invalid-frame')).toHaveLength(3);
    await expectNothingHappened(s, []);
  });

  it('offers with an unknown member, a bidi override, or another version: never shown', async () => {
    const s = await session();
    const from = s.auditCount();
    const a = offerFor(s.target, s.key);
    const b = offerFor(s.target, s.key, () => ({
      // Right-to-left override would make "…ecnatsni" read differently (docs/card-reference.md §14.2 item 7).
      purpose: 'Rotate \u202Eyek toor eht tropxe',
    }));
    const c = offerFor(s.target, s.key);
    s.server.send({ ...a, approveAutomatically: true });
    s.server.send(b);
    s.server.send({ ...c, v: 2 });
    const closed = await s.server.current().closed;
    expect(closed.code).toBe(4002);
    await stopped(s);
    const bad = s.auditSince(from).filter((l) => l.kind === 'error');
    expect(bad).toHaveLength(3);
    for (const l of bad) expect(l.data['what']).toBe('invalid-frame');
    expect(s.auditSince(from).some((l) => l.kind === 'offer-rejected')).toBe(false);
    await expectNothingHappened(s, [a.offerId, b.offerId, c.offerId]);
  });
});
