import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineBackend } from '../../../../core/desktop-backend/engine-backend';
import {
  checkInvite,
  displayUrlOf,
  serverPinOf,
  wsUrlOf,
} from '../../../../core/desktop-backend/server-setup';
import { serverSchema } from '../../../../shared/ipc/model';
import { unwrap } from '../../../../shared/result';
import { emulatedCardAccess } from './emulated-cards';

const pinValue = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('server addresses and pins', () => {
  it('maps the typed address to the custodian WebSocket and back', () => {
    expect(unwrap(wsUrlOf('https://custody.example.org')).toString()).toBe(
      'wss://custody.example.org/ws',
    );
    expect(unwrap(wsUrlOf('https://custody.example.org:8443/custodian/ws')).toString()).toBe(
      'wss://custody.example.org:8443/custodian/ws',
    );
    expect(unwrap(wsUrlOf('http://127.0.0.1:9000')).toString()).toBe('ws://127.0.0.1:9000/ws');
    // Plain ws only to loopback (docs/card-reference.md §14.2 item 4).
    expect(wsUrlOf('http://custody.example.org').ok).toBe(false);
    expect(wsUrlOf('https://user:pw@custody.example.org').ok).toBe(false);
    expect(wsUrlOf('file:///etc/passwd').ok).toBe(false);
    expect(wsUrlOf('not a url').ok).toBe(false);
    expect(displayUrlOf('wss://custody.example.org/ws')).toBe('https://custody.example.org');
    expect(displayUrlOf('ws://127.0.0.1:9000/ws')).toBe('http://127.0.0.1:9000');
  });

  it('checks the invitation token form', () => {
    expect(unwrap(checkInvite('  abcdefghijklmnopqrstuvwxyz_-0123  '))).toBe(
      'abcdefghijklmnopqrstuvwxyz_-0123',
    );
    expect(checkInvite('short').ok).toBe(false);
    expect(checkInvite('a'.repeat(30) + '!').ok).toBe(false);
  });

  it('pins a configured fingerprint or CA file; an unreadable CA file is an error', () => {
    const home = mkdtempSync(join(tmpdir(), 'custodian-pin-'));
    const fp = 'AB'.repeat(32);
    expect(pinValue(serverPinOf({ url: 'wss://x/ws', fingerprint: fp }, home))).toEqual({
      kind: 'fingerprint',
      sha256: fp.toLowerCase(),
    });
    expect(pinValue(serverPinOf({ url: 'ws://127.0.0.1/ws' }, home))).toBeUndefined();
    writeFileSync(
      join(home, 'ca.pem'),
      '-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n',
    );
    expect(pinValue(serverPinOf({ url: 'wss://x/ws', caFile: 'ca.pem' }, home))).toMatchObject({
      kind: 'ca',
    });
    writeFileSync(join(home, 'bad.pem'), 'hello');
    expect(serverPinOf({ url: 'wss://x/ws', caFile: 'bad.pem' }, home).ok).toBe(false);
    expect(serverPinOf({ url: 'wss://x/ws', caFile: 'missing.pem' }, home).ok).toBe(false);
  });

  it('a server enrolled with the CLI is listed; without its credential it is in error', async () => {
    const home = mkdtempSync(join(tmpdir(), 'custodian-cli-home-'));
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({
        version: 1,
        server: { url: 'wss://custody.example.org/ws', fingerprint: 'cd'.repeat(32) },
        custodianId: 'cust-1',
        keyId: 1,
        trustAnchors: [],
      }),
    );
    const b = await createEngineBackend({ home, cards: emulatedCardAccess([]) });
    const [server] = unwrap(await b.listServers());
    expect(serverSchema.parse(server)).toMatchObject({
      id: 'default',
      url: 'https://custody.example.org',
      state: 'error',
      tlsFingerprint: 'CD'.repeat(32),
    });
    await b.stop();
  });
});
