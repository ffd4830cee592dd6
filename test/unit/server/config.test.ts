import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig, isLoopbackHost, parseConfig } from '../../../server/config';

const base = {
  listen: { host: '127.0.0.1', port: 8443 },
  dataDir: './data',
  targets: [{ name: 't1', reader: 'Reader 00 00' }],
  trustAnchors: ['production', 'anchors/root.cvc'],
  unlock: { maxSeconds: 300, maxSignatures: 10 },
  ceremonyDefaults: { expiresInSeconds: 900 },
};

describe('server config', () => {
  it('accepts a valid config and resolves relative paths against its directory', () => {
    const r = parseConfig({ ...base, tls: { cert: 'c.pem', key: '/abs/k.pem' } }, '/etc/cs');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.dataDir).toBe('/etc/cs/data');
    expect(r.value.trustAnchors).toEqual(['production', '/etc/cs/anchors/root.cvc']);
    expect(r.value.tls).toEqual({ cert: '/etc/cs/c.pem', key: '/abs/k.pem' });
  });

  it('allows plain ws only on loopback', () => {
    expect(parseConfig(base, '/x').ok).toBe(true);
    for (const host of ['0.0.0.0', '192.168.1.5', 'example.org', '::']) {
      const r = parseConfig({ ...base, listen: { host, port: 1 } }, '/x');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toMatch(/without TLS is refused/);
      expect(parseConfig({ ...base, listen: { host, port: 1 }, tls: 'self-signed' }, '/x').ok).toBe(
        true,
      );
    }
    expect(['localhost', '127.0.0.1', '127.8.9.1', '::1', '[::1]'].every(isLoopbackHost)).toBe(
      true,
    );
    expect(['128.0.0.1', '0.0.0.0', 'localhost.evil.com'].some(isLoopbackHost)).toBe(false);
  });

  it('refuses bad targets, unknown keys, out-of-range limits and ceremony expiry above an hour', () => {
    const bad = [
      { ...base, targets: [{ name: 't1' }] },
      { ...base, targets: [{ name: 't1', reader: 'r', emulatorState: 's' }] },
      {
        ...base,
        targets: [
          { name: 't1', reader: 'r' },
          { name: 't1', reader: 'q' },
        ],
      },
      { ...base, targets: [{ name: 'bad name!', reader: 'r' }] },
      { ...base, extra: 1 },
      { ...base, unlock: { maxSeconds: 0, maxSignatures: 1 } },
      { ...base, ceremonyDefaults: { expiresInSeconds: 7200 } },
      { ...base, trustAnchors: [] },
      // The display name is terminal-safe and bounded (docs/protocol.md §5.1).
      { ...base, name: 'Acme\u001b[31m PKI' },
      { ...base, name: 'Acme \u202eIKP' },
      { ...base, name: 'A'.repeat(65) },
      { ...base, name: '  ' },
    ];
    expect(parseConfig({ ...base, name: 'Acme PKI — Zürich' }, '/x').ok).toBe(true);
    for (const c of bad) expect(parseConfig(c, '/x').ok).toBe(false);
  });

  it('the default config validates', () => {
    expect(parseConfig(defaultConfig(), '/x').ok).toBe(true);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parseConfig(v, '/x');
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});
