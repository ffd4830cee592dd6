import { mkdtempSync, chmodSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  custodianHome,
  loadCredential,
  loadCustodianConfig,
  parseCustodianConfig,
  saveCredential,
  saveCustodianConfig,
} from '../../../../core/config/custodian-config';

const home = () => join(mkdtempSync(join(tmpdir(), 'cust-home-')), 'h');

describe('custodian config', () => {
  it('resolves the home from the environment', () => {
    expect(custodianHome({ CUSTODIAN_HOME: '/x/y' })).toBe('/x/y');
    expect(custodianHome({ XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/custodian');
  });

  it('saves and loads a validated config (0600) and normalises the fingerprint', () => {
    const h = home();
    const saved = saveCustodianConfig(h, {
      version: 1,
      server: { url: 'wss://hsm.example/c', fingerprint: 'AB:'.repeat(31) + 'AB' },
      trustAnchors: [],
      keyId: 1,
    });
    expect(saved.ok).toBe(true);
    expect(statSync(join(h, 'config.json')).mode & 0o777).toBe(0o600);
    const loaded = loadCustodianConfig(h);
    expect(loaded.ok && loaded.value.server?.fingerprint).toBe('ab'.repeat(32));
  });

  it('rejects unknown keys, double pins, bad URLs and bad JSON', () => {
    expect(parseCustodianConfig('{').ok).toBe(false);
    expect(
      parseCustodianConfig(JSON.stringify({ version: 1, trustAnchors: [], extra: 1 })).ok,
    ).toBe(false);
    expect(
      parseCustodianConfig(
        JSON.stringify({
          version: 1,
          server: { url: 'wss://a/', fingerprint: 'a'.repeat(64), caFile: '/ca.pem' },
        }),
      ).ok,
    ).toBe(false);
    expect(
      parseCustodianConfig(JSON.stringify({ version: 1, server: { url: 'http://a/' } })).ok,
    ).toBe(false);
    expect(parseCustodianConfig(JSON.stringify({ version: 1, keyId: 0 })).ok).toBe(false);
    expect(loadCustodianConfig(home()).ok).toBe(false);
  });

  it('keeps the credential owner-only and refuses a readable one', () => {
    const h = home();
    saveCredential(h, 'c'.repeat(40));
    expect(statSync(join(h, 'credential')).mode & 0o777).toBe(0o600);
    expect(loadCredential(h)).toEqual({ ok: true, value: 'c'.repeat(40) });
    chmodSync(join(h, 'credential'), 0o644);
    const r = loadCredential(h);
    expect(!r.ok && r.error.code).toBe('insecure-permissions');
    writeFileSync(join(h, 'credential'), '', { mode: 0o600 });
    chmodSync(join(h, 'credential'), 0o600);
    expect(loadCredential(h).ok).toBe(false);
    expect(() => saveCredential(h, 'has space')).toThrow();
  });
});
