/**
 * Admission rules of the custodian endpoint (issue 7 items 4, 5, 10): client address behind
 * trusted proxies only, caps, and the failure throttle that delays failures only.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  Admission,
  clientAddress,
  trustedProxyList,
  type FailureThrottle,
} from '../../../server/net/admission';
import { safeErrorText } from '../../../server/net/safe-text';
import { parseConfig } from '../../../server/config';
import { hasForbiddenDisplayCharacter } from '../../../shared/protocol/fields';

const req = (peer: string, xff?: string | string[]) =>
  ({
    socket: { remoteAddress: peer },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  }) as unknown as IncomingMessage;

describe('client address (7.5 trusted proxies)', () => {
  const proxies = trustedProxyList(['10.0.0.1', '192.168.0.0/16', '::1']);
  it('7.5 ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientAddress(req('203.0.113.5', '1.2.3.4'), proxies)).toBe('203.0.113.5');
    expect(clientAddress(req('::ffff:203.0.113.5', '1.2.3.4'), proxies)).toBe('203.0.113.5');
  });
  it('7.5 takes the nearest untrusted hop from a trusted proxy', () => {
    expect(clientAddress(req('10.0.0.1', '1.2.3.4'), proxies)).toBe('1.2.3.4');
    // The client wrote its own (spoofed) entry first; the proxies appended the real one.
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 1.2.3.4, 192.168.4.4'), proxies)).toBe(
      '1.2.3.4',
    );
    expect(clientAddress(req('::1', ['6.6.6.6', '1.2.3.4']), proxies)).toBe('1.2.3.4');
    expect(clientAddress(req('::ffff:10.0.0.1', '2001:db8::7'), proxies)).toBe('2001:db8::7');
  });
  it('7.5 a malformed or missing header falls back to the last trusted hop', () => {
    expect(clientAddress(req('10.0.0.1'), proxies)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', 'garbage'), proxies)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', '1.2.3.4, garbage'), proxies)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', 'x, 192.168.1.1'), proxies)).toBe('192.168.1.1');
  });
  it('refuses malformed trusted proxy entries', () => {
    for (const bad of ['proxy.example', '10.0.0.0/33', '10.0.0.0/x', '1.2.3.4/8/9', ''])
      expect(() => trustedProxyList([bad])).toThrow(/trusted proxy/);
  });
});

describe('admission caps (7.10) and throttle (7.4)', () => {
  it('7.10 caps unauthenticated connections per address and in total', () => {
    const a = new Admission({ maxUnauthenticatedPerAddress: 2, maxUnauthenticated: 3 });
    expect([a.admit('x'), a.admit('x'), a.admit('x')]).toEqual([true, true, false]);
    expect([a.admit('y'), a.admit('z')]).toEqual([true, false]);
    a.release('x');
    expect(a.admit('z')).toBe(true);
    expect(a.unauthenticated).toBe(3);
  });
  it('7.4 delays grow per address and per id, and expire with the window', () => {
    let now = 0;
    const t: FailureThrottle = {
      freeFailures: 2,
      baseDelayMs: 100,
      maxDelayMs: 350,
      windowMs: 1000,
    };
    const a = new Admission(undefined, t, () => now);
    const delays = [1, 2, 3, 4, 5].map((i) => a.fail([`ip:10.0.0.${i}`, 'id:alice']));
    expect(delays).toEqual([0, 0, 100, 200, 350]);
    // Another id from a fresh address is not slowed by alice's guessers.
    expect(a.fail(['ip:10.9.9.9', 'id:bob'])).toBe(0);
    now = 1001;
    expect(a.fail(['ip:10.0.0.1', 'id:alice'])).toBe(0);
  });
});

describe('error text (11.6)', () => {
  it('11.6 escapes every character display text forbids and stays within the limit', () => {
    for (const bad of [
      '\u0085',
      '\u009b31m',
      '\u001b[2J',
      '\u202e',
      '\u2066',
      '\ud800',
      '\u2028',
      '\ufeff',
      '\udb80\udc00',
      '\0',
    ]) {
      const out = safeErrorText(`key "${bad}" is not allowed`);
      expect(hasForbiddenDisplayCharacter(out)).toBe(false);
      expect(out).toContain('\\u');
    }
    expect(safeErrorText('\u0085'.repeat(1000)).length).toBeLessThanOrEqual(500);
    expect(safeErrorText('😀'.repeat(400)).length).toBeLessThanOrEqual(500);
    expect(hasForbiddenDisplayCharacter(safeErrorText('😀'.repeat(400)))).toBe(false);
    expect(safeErrorText('   ')).toBe('invalid message');
  });
});

describe('config (7.5, 7.10)', () => {
  const base = {
    listen: { host: '127.0.0.1', port: 8443 },
    dataDir: './data',
    targets: [{ name: 't1', reader: 'Reader 00 00' }],
    trustAnchors: ['production'],
    unlock: { maxSeconds: 300, maxSignatures: 10 },
    ceremonyDefaults: { expiresInSeconds: 900 },
  };
  it('7.5 accepts trusted proxy addresses and subnets, refuses anything else', () => {
    expect(parseConfig({ ...base, trustedProxies: ['10.0.0.5', 'fd00::/8'] }, '/x').ok).toBe(true);
    for (const bad of ['proxy.local', '10.0.0.0/40', '*']) {
      const r = parseConfig({ ...base, trustedProxies: [bad] }, '/x');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toMatch(/trustedProxies/);
    }
  });
  it('7.10 accepts connection caps within bounds only', () => {
    const caps = { maxUnauthenticatedPerAddress: 4, maxUnauthenticated: 64 };
    expect(parseConfig({ ...base, connections: caps }, '/x').ok).toBe(true);
    for (const bad of [
      { ...caps, maxUnauthenticated: 0 },
      { ...caps, maxUnauthenticatedPerAddress: 1.5 },
      { maxUnauthenticated: 5 },
      { ...caps, extra: 1 },
    ])
      expect(parseConfig({ ...base, connections: bad }, '/x').ok).toBe(false);
  });
});
