import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_CHANNELS, INVOKE_CHANNELS, INVOKE_METHODS } from '../../../shared/ipc/channels';
import { createCustodianApi } from '../../../shared/ipc/bridge';
import {
  INVOKE_CONTRACT,
  pinSchema,
  serverUrlSchema,
  type CustodianApi,
} from '../../../shared/ipc/contract';
import { IPC_ERROR_CODES, describeIpcError, ipcError } from '../../../shared/ipc/errors';
import { createFakeBridge, FAKE_PIN } from '../../../renderer/dev/fake-bridge';
import { shownOffer } from '../../integration/custodian/offer-ref';

describe('IPC contract', () => {
  it('uses unique, namespaced channel names', () => {
    const all = [...Object.values(INVOKE_CHANNELS), ...Object.values(EVENT_CHANNELS)];
    expect(new Set(all).size).toBe(all.length);
    for (const c of all) expect(c).toMatch(/^custodian:[a-z-]+:[a-z-]+$/);
  });

  it('accepts SmartCard-HSM PINs (6–16 printable ASCII) only', () => {
    for (const good of ['123456', '1234567890123456', 'abc def!'])
      expect(pinSchema.safeParse(good).success, good).toBe(true);
    for (const bad of ['12345', '12345678901234567', '12345\u00e9', '123456\n', 123456]) {
      expect(pinSchema.safeParse(bad).success, String(bad)).toBe(false);
    }
  });

  it('accepts https servers and plain http only on loopback', () => {
    for (const good of [
      'https://custody.example.com',
      'https://h.example:8443/api',
      'http://127.0.0.1:8080',
      'http://localhost',
    ]) {
      expect(serverUrlSchema.safeParse(good).success, good).toBe(true);
    }
    for (const bad of [
      'http://custody.example.com',
      'ftp://x',
      'https://',
      'https://a b',
      'javascript:alert(1)',
      'http://127.0.0.1.evil.com',
    ]) {
      expect(serverUrlSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('has words for every error code, with tries left for a wrong PIN', () => {
    for (const code of IPC_ERROR_CODES) {
      const text = describeIpcError(ipcError(code, 'x'));
      expect(text.title.length, code).toBeGreaterThan(5);
      expect(text.detail).not.toMatch(/undefined|null|\bSW\b|0x/);
    }
    expect(describeIpcError(ipcError('pin-wrong', 'x', 1)).detail).toMatch(/Only 1 try is left/);
    expect(describeIpcError(ipcError('pin-wrong', 'x', 2)).detail).toMatch(/2 tries are left/);
    expect(ipcError('internal', 'y'.repeat(900)).message.length).toBeLessThanOrEqual(500);
  });
});

describe('createCustodianApi (the preload bridge)', () => {
  it('builds one function per method and passes only the payload to listeners', async () => {
    const invoked: [string, unknown][] = [];
    const subs = new Map<string, (p: unknown) => void>();
    const api = createCustodianApi({
      invoke: async (c, p) => {
        invoked.push([c, p]);
        return { ok: true, value: null };
      },
      on: (c, l) => {
        subs.set(c, l);
        return () => subs.delete(c);
      },
    });
    expect(Object.isFrozen(api)).toBe(true);
    for (const m of INVOKE_METHODS) expect(typeof api[m], m).toBe('function');
    await api.getCeremony({ ceremonyId: 'c-1' });
    expect(invoked).toEqual([[INVOKE_CHANNELS.getCeremony, { ceremonyId: 'c-1' }]]);
    const got: unknown[] = [];
    const off = api.onNavigate((p) => got.push(p));
    subs.get(EVENT_CHANNELS.onNavigate)?.({ view: 'card' });
    expect(got).toEqual([{ view: 'card' }]);
    off();
    expect(subs.size).toBe(0);
    expect(() => api.onTrace('nope' as never)).toThrow(TypeError);
  });

  it('turns a transport failure into an unavailable error', async () => {
    const api = createCustodianApi({
      invoke: async () => {
        throw new Error('No handler registered');
      },
      on: () => () => {},
    });
    const r = await api.listReaders();
    expect(!r.ok && r.error.code).toBe('unavailable');
  });
});

describe('the fake bridge keeps to the contract', () => {
  it('every response it gives validates against the response schema', async () => {
    for (const scenario of [
      'normal',
      'first-run',
      'errors',
      'no-key',
      'pinpad',
      'hostile',
      'suspicious',
      'test-root',
    ] as const) {
      const fake: CustodianApi = createFakeBridge({
        scenario,
        now: () => Date.parse('2026-11-27T10:00:00Z'),
      });
      const reader = 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00';
      const requests: Partial<Record<(typeof INVOKE_METHODS)[number], unknown>> = {
        previewServer: { url: 'https://x.example', invite: 'inv_abcdefghijklmnop' },
        addServer: { url: 'https://x.example', invite: 'inv_abcdefghijklmnop' },
        removeServer: { serverId: 'srv-acme' },
        inspectCard: { reader },
        createKey: { reader, label: 'k', pin: FAKE_PIN },
        exportPka: { reader },
        getCeremony: { ceremonyId: 'c-7f3a91' },
        approveCeremony: { ceremonyId: 'c-7f3a91', reader, pin: FAKE_PIN },
        declineCeremony: { ceremonyId: 'c-5d2107' },
        listTrace: {},
        listAudit: {},
        updateSettings: { theme: 'dark' },
        openExternal: { url: 'https://x.example' },
        reportAlert: { alertId: 'a-2' },
      };
      for (const m of INVOKE_METHODS) {
        const r = await (fake[m] as (q?: unknown) => Promise<{ ok: boolean; value?: unknown }>)(
          requests[m],
        );
        if (r.ok) {
          const parsed = INVOKE_CONTRACT[m].response.safeParse(r.value);
          expect(
            parsed.success,
            `${scenario}/${m}: ${parsed.success ? '' : parsed.error.message}`,
          ).toBe(true);
        }
      }
    }
  });

  it('property: the fake never accepts a wrong PIN and counts tries down', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 6, maxLength: 16 }).filter((p) => p !== FAKE_PIN),
        async (pin) => {
          const fake = createFakeBridge({ now: () => Date.parse('2026-11-27T10:00:00Z') });
          const r = await fake.approveCeremony({
            ceremonyId: 'c-7f3a91',
            ...(await shownOffer(fake, 'c-7f3a91')),
            reader: 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00',
            pin,
          });
          expect(r.ok).toBe(false);
          expect(!r.ok && r.error.retriesLeft).toBe(2);
        },
      ),
      { numRuns: 50 },
    );
  });
});
