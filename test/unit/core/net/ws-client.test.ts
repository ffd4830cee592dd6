import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../../core/net/backoff';
import { createServerClient, type ConnectionState } from '../../../../core/net/ws-client';
import { checkServerUrl, isLoopbackHost } from '../../../../core/net/url-policy';
import { fakeConnector, manualTimers } from './fakes';

const hello = () =>
  ({
    v: 1,
    type: 'hello',
    client: { name: 'test', version: '0.1.0' },
    auth: { kind: 'session', custodianId: 'cust-1', credential: 'c'.repeat(32) },
  }) as const;

const welcome = (heartbeatSeconds = 10) =>
  JSON.stringify({
    v: 1,
    type: 'welcome',
    custodianId: 'cust-1',
    serverTime: '2026-11-27T00:00:00Z',
    heartbeatSeconds,
  });

function setup(random = () => 0.5, extra: { reconnect?: boolean } = {}) {
  const clock = manualTimers();
  const { connector, conns } = fakeConnector();
  const states: ConnectionState[] = [];
  const messages: unknown[] = [];
  const invalid: number[] = [];
  const client = createServerClient({
    url: 'ws://127.0.0.1:1/custodian',
    connector,
    hello,
    onMessage: (m) => messages.push(m),
    onState: (s) => states.push(s),
    onInvalidFrame: (f) => invalid.push(f.count),
    timers: clock.timers,
    random,
    backoff: { initialMs: 1000, maxMs: 8000 },
    ...extra,
  });
  return { clock, conns, states, messages, invalid, client };
}

describe('backoff', () => {
  it('is exponential, capped and fully jittered', () => {
    expect(backoffDelay(0, () => 0.999, { initialMs: 1000, maxMs: 8000 })).toBe(999);
    expect(backoffDelay(2, () => 0.5, { initialMs: 1000, maxMs: 8000 })).toBe(2000);
    expect(backoffDelay(10, () => 0.5, { initialMs: 1000, maxMs: 8000 })).toBe(4000);
    expect(backoffDelay(3, () => 0, { initialMs: 1000, maxMs: 8000 })).toBe(0);
  });

  it('stays within [0, cap] for any attempt and any random value', () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), (a, r) => {
        const d = backoffDelay(a, () => r, { initialMs: 500, maxMs: 30_000 });
        expect(Number.isFinite(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(30_000);
      }),
    );
  });
});

describe('server URL policy', () => {
  it('allows plain ws only to loopback', () => {
    expect(checkServerUrl('ws://127.0.0.1:8080/x', undefined).ok).toBe(true);
    expect(checkServerUrl('ws://localhost/x', undefined).ok).toBe(true);
    expect(checkServerUrl('ws://[::1]:80/', undefined).ok).toBe(true);
    const r = checkServerUrl('ws://example.org/x', undefined);
    expect(!r.ok && r.error.code).toBe('insecure');
    expect(isLoopbackHost('127.example.org')).toBe(false);
  });

  it('requires a pin for wss and rejects odd URLs', () => {
    expect(!checkServerUrl('wss://hsm.example/', undefined).ok).toBe(true);
    expect(
      checkServerUrl('wss://hsm.example/', { kind: 'fingerprint', sha256: 'ab'.repeat(32) }).ok,
    ).toBe(true);
    expect(checkServerUrl('wss://hsm.example/', { kind: 'fingerprint', sha256: 'abc' }).ok).toBe(
      false,
    );
    expect(checkServerUrl('https://hsm.example/', undefined).ok).toBe(false);
    expect(checkServerUrl('ws://u:p@127.0.0.1/', undefined).ok).toBe(false);
    expect(checkServerUrl('not a url', undefined).ok).toBe(false);
  });
});

describe('server client', () => {
  it('sends hello first, answers ping with pong, reports welcome', () => {
    const t = setup();
    t.client.start();
    const c = t.conns[0]!;
    c.events.onOpen();
    expect(JSON.parse(c.sent[0]!)).toMatchObject({ type: 'hello' });
    c.events.onText(welcome());
    expect(t.client.state).toEqual({ kind: 'authenticated', custodianId: 'cust-1' });
    c.events.onText(JSON.stringify({ v: 1, type: 'ping', nonce: 'n1' }));
    expect(JSON.parse(c.sent[1]!)).toEqual({ v: 1, type: 'pong', nonce: 'n1' });
    expect(t.messages).toHaveLength(1);
  });

  it('does not send decisions before authentication', () => {
    const t = setup();
    t.client.start();
    t.conns[0]!.events.onOpen();
    const sent = t.client.send({
      v: 1,
      type: 'decision',
      ceremonyId: 'c1',
      offerId: 'o1',
      decision: { kind: 'decline', reason: 'user-declined' },
    });
    expect(sent).toBe(false);
  });

  it('reconnects after drops with growing jittered delays and resets after welcome', () => {
    const t = setup(() => 0.5);
    t.client.start();
    t.conns[0]!.events.onClose(1006, '');
    // The waiting state carries the delay; the next connect happens only when it has passed.
    const waits = t.states.filter((s) => s.kind === 'waiting');
    expect(waits.map((w) => (w.kind === 'waiting' ? w.delayMs : -1))).toEqual([500]);
    t.clock.advance(499);
    expect(t.conns).toHaveLength(1);
    t.clock.advance(1);
    expect(t.conns).toHaveLength(2);
    t.conns[1]!.events.onClose(1006, '');
    t.clock.advance(1000);
    expect(t.conns).toHaveLength(3);
    t.conns[2]!.events.onClose(1006, '');
    const delays = t.states.flatMap((s) => (s.kind === 'waiting' ? [s.delayMs] : []));
    expect(delays).toEqual([500, 1000, 2000]);
    t.clock.advance(2000);
    t.conns[3]!.events.onOpen();
    t.conns[3]!.events.onText(welcome());
    t.conns[3]!.events.onClose(1006, '');
    const last = t.states.at(-1);
    expect(last).toMatchObject({ kind: 'waiting', delayMs: 500 });
  });

  it('stops on final close codes and on stop()', () => {
    const t = setup();
    t.client.start();
    // 4007 (revoked) is final; 4001 is retried since issue 11 item 10 (test below).
    t.conns[0]!.events.onClose(4007, 'revoked');
    expect(t.client.state).toMatchObject({ kind: 'stopped', code: 4007 });
    t.clock.advance(120_000);
    expect(t.conns).toHaveLength(1);

    const u = setup();
    u.client.start();
    u.conns[0]!.events.onOpen();
    u.client.stop();
    expect(u.conns[0]!.closed?.code).toBe(1000);
    expect(u.client.state.kind).toBe('stopped');
    u.clock.advance(120_000);
    expect(u.conns).toHaveLength(1);
  });

  it('11.10 a 4001 close is retried with back-off and reported, never final', () => {
    const t = setup();
    t.client.start();
    for (let i = 0; i < 4; i++) {
      t.conns[i]!.events.onOpen();
      t.conns[i]!.events.onClose(4001, 'auth failed');
      const s = t.client.state;
      expect(s).toMatchObject({ kind: 'waiting', code: 4001, attempt: i + 1 });
      expect(s.kind === 'waiting' && s.reason).toMatch(/authentication failed/);
      t.clock.advance(s.kind === 'waiting' ? s.delayMs : 0);
      expect(t.conns).toHaveLength(i + 2);
    }
    // The delays grow (exponential back-off, random 0.5): 500, 1000, 2000, 4000.
    const delays = t.states.flatMap((s) => (s.kind === 'waiting' ? [s.delayMs] : []));
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    // Once accepted, the back-off starts over; the other final codes still stop.
    t.conns[4]!.events.onOpen();
    t.conns[4]!.events.onText(welcome());
    expect(t.client.state.kind).toBe('authenticated');
    for (const code of [4003, 4006, 4007]) {
      const u = setup();
      u.client.start();
      u.conns[0]!.events.onClose(code, 'x');
      expect(u.client.state).toMatchObject({ kind: 'stopped', code });
    }
    // Enrollment (no reconnect) still stops on 4001.
    const e = setup(() => 0.5, { reconnect: false });
    e.client.start();
    e.conns[0]!.events.onClose(4001, 'auth failed');
    expect(e.client.state).toMatchObject({ kind: 'stopped', code: 4001 });
  });

  it('declares the server dead after missed heartbeats and reconnects', () => {
    const t = setup();
    t.client.start();
    t.conns[0]!.events.onOpen();
    t.conns[0]!.events.onText(welcome(10));
    t.clock.advance(29_000);
    t.conns[0]!.events.onText(JSON.stringify({ v: 1, type: 'ping', nonce: 'n' }));
    t.clock.advance(29_000);
    expect(t.conns[0]!.terminated).toBe(false);
    t.clock.advance(1_000);
    expect(t.conns[0]!.terminated).toBe(true);
    expect(t.states.at(-1)).toMatchObject({ kind: 'waiting', reason: 'heartbeat timeout' });
  });

  it('counts invalid frames and closes after the limit without throwing', () => {
    const t = setup();
    t.client.start();
    const c = t.conns[0]!;
    c.events.onOpen();
    c.events.onText('not json');
    c.events.onBadFrame('binary frame');
    expect(c.closed).toBeUndefined();
    c.events.onText(JSON.stringify({ v: 1, type: 'offer' }));
    expect(t.invalid).toEqual([1, 2, 3]);
    expect(c.closed?.code).toBe(4002);
    // A protocol violation is a bug or an attack: no automatic reconnect (docs/protocol.md §10).
    expect(t.states.at(-1)).toMatchObject({ kind: 'stopped', reason: 'too many invalid frames' });
    t.clock.advance(120_000);
    expect(t.conns).toHaveLength(1);
  });

  it('survives arbitrary frames', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.json()), { maxLength: 6 }), (frames) => {
        const t = setup();
        t.client.start();
        const c = t.conns[0]!;
        c.events.onOpen();
        for (const s of frames) expect(() => c.events.onText(s)).not.toThrow();
        t.clock.advance(100_000);
      }),
      { numRuns: 200 },
    );
  });

  it('does not reconnect when reconnect is off (enrollment)', () => {
    const t = setup(() => 0.5, { reconnect: false });
    t.client.start();
    t.conns[0]!.events.onClose(1006, '');
    expect(t.client.state.kind).toBe('stopped');
    t.clock.advance(100_000);
    expect(t.conns).toHaveLength(1);
  });
});
