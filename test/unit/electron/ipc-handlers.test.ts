import { describe, expect, it } from 'vitest';
import { ipcError } from '../../../shared/ipc/errors';
import { DEFAULT_SETTINGS, type Settings } from '../../../shared/ipc/model';
import { overviewSchema } from '../../../shared/ipc/contract';
import { createUnavailableBackend, type CustodianBackend } from '../../../electron/main/backend';
import { createIpcHandlers, pinBytes, withPin } from '../../../electron/main/ipc-handlers';
import type { SettingsStore } from '../../../electron/main/settings-store';

const settingsStub = (): SettingsStore => {
  let s: Settings = { ...DEFAULT_SETTINGS };
  return {
    load: async () => s,
    current: () => s,
    update: async (patch) => (s = { ...s, ...patch }),
    onChange: () => () => {},
  };
};

describe('PIN handling in main', () => {
  it('converts printable ASCII and refuses anything else', () => {
    expect([...pinBytes('123456')]).toEqual([0x31, 0x32, 0x33, 0x34, 0x35, 0x36]);
    expect(() => pinBytes('12345\u00e9')).toThrow(RangeError);
    expect(() => pinBytes('12345\n')).toThrow(RangeError);
  });

  it('wipes the PIN bytes after the call, also when it fails', async () => {
    let seen: Uint8Array | undefined;
    await withPin('654321', async (b) => {
      seen = b;
      expect(new TextDecoder().decode(b)).toBe('654321');
    });
    expect([...(seen ?? [1])].every((x) => x === 0)).toBe(true);
    await expect(
      withPin('999999', async (b) => {
        seen = b;
        throw new Error('card removed');
      }),
    ).rejects.toThrow('card removed');
    expect([...(seen ?? [1])].every((x) => x === 0)).toBe(true);
    expect(await withPin(undefined, async (b) => b)).toBeUndefined();
  });

  it('hands the approval PIN to the backend as bytes and wipes them', async () => {
    let pinSeen: Uint8Array | undefined;
    let hadPin: boolean | undefined;
    const backend: CustodianBackend = {
      ...createUnavailableBackend('x'),
      approveCeremony: async (r) => {
        hadPin = 'pin' in r;
        pinSeen = r.pin;
        expect(r.pin === undefined ? '' : new TextDecoder().decode(r.pin)).toBe('123456');
        return {
          ok: true,
          value: {
            ceremonyId: r.ceremonyId,
            outcome: 'approved',
            approvals: 1,
            required: 2,
            blocked: 0,
          },
        };
      },
    };
    const handlers = createIpcHandlers({
      backend,
      settings: settingsStub(),
      version: '1',
      openExternal: async () => {},
      saveFile: async () => undefined,
    });
    const r = await handlers.approveCeremony({
      ceremonyId: 'c',
      offerId: 'o-1',
      offerDigest: 'a'.repeat(64),
      reader: 'r',
      pin: '123456',
    });
    expect(r.ok).toBe(true);
    expect(hadPin).toBe(true);
    expect([...(pinSeen ?? [1])].every((x) => x === 0)).toBe(true);
  });

  it('omits the PIN for PIN-pad approvals', async () => {
    let keys: string[] = [];
    const backend: CustodianBackend = {
      ...createUnavailableBackend('x'),
      approveCeremony: async (r) => {
        keys = Object.keys(r);
        return { ok: false, error: ipcError('pin-timeout', 'no input') };
      },
    };
    const handlers = createIpcHandlers({
      backend,
      settings: settingsStub(),
      version: '1',
      openExternal: async () => {},
      saveFile: async () => undefined,
    });
    const r = await handlers.approveCeremony({
      ceremonyId: 'c',
      offerId: 'o-1',
      offerDigest: 'a'.repeat(64),
      reader: 'r',
    });
    expect(!r.ok && r.error.code).toBe('pin-timeout');
    expect(keys.sort()).toEqual(['ceremonyId', 'offerDigest', 'offerId', 'reader']);
  });
});

describe('approval options reach the backend', () => {
  it('forwards the last-try confirmation and the TEST anchor acknowledgement unchanged', async () => {
    const seen: Record<string, unknown>[] = [];
    const backend: CustodianBackend = {
      ...createUnavailableBackend('x'),
      approveCeremony: async (r) => {
        seen.push({ ...r });
        return { ok: false, error: ipcError('pin-timeout', 'no input') };
      },
    };
    const handlers = createIpcHandlers({
      backend,
      settings: settingsStub(),
      version: '1',
      openExternal: async () => {},
      saveFile: async () => undefined,
    });
    await handlers.approveCeremony({
      ceremonyId: 'c',
      offerId: 'o-1',
      offerDigest: 'a'.repeat(64),
      reader: 'r',
      confirmLastTry: true,
      acknowledgeTestAnchor: 'UTCUSTSRCA00001',
    });
    await handlers.approveCeremony({
      ceremonyId: 'c',
      offerId: 'o-1',
      offerDigest: 'a'.repeat(64),
      reader: 'r',
    });
    expect(seen[0]).toMatchObject({
      confirmLastTry: true,
      acknowledgeTestAnchor: 'UTCUSTSRCA00001',
    });
    expect(Object.keys(seen[1] ?? {}).sort()).toEqual([
      'ceremonyId',
      'offerDigest',
      'offerId',
      'reader',
    ]);
  });
});

describe('createIpcHandlers', () => {
  it('reports an unavailable engine in words, not a hang', async () => {
    const handlers = createIpcHandlers({
      backend: createUnavailableBackend('engine missing'),
      settings: settingsStub(),
      version: '1',
      openExternal: async () => {},
      saveFile: async () => undefined,
    });
    const r = await handlers.getOverview(undefined);
    expect(!r.ok && r.error).toEqual({ code: 'unavailable', message: 'engine missing' });
  });

  it('composes the overview from backend servers, settings and version', async () => {
    const backend: CustodianBackend = {
      ...createUnavailableBackend('x'),
      listServers: async () => ({ ok: true, value: [] }),
    };
    const handlers = createIpcHandlers({
      backend,
      settings: settingsStub(),
      version: '9.9.9',
      openExternal: async () => {},
      saveFile: async () => undefined,
    });
    expect(await handlers.getOverview(undefined)).toEqual({
      ok: true,
      value: { servers: [], settings: DEFAULT_SETTINGS, version: '9.9.9' },
    });
  });

  it('tells the renderer whether main could create a system tray', async () => {
    const backend: CustodianBackend = {
      ...createUnavailableBackend('x'),
      listServers: async () => ({ ok: true, value: [] }),
    };
    for (const tray of [false, true]) {
      const handlers = createIpcHandlers({
        backend,
        settings: settingsStub(),
        version: '9.9.9',
        trayAvailable: () => tray,
        openExternal: async () => {},
        saveFile: async () => undefined,
      });
      const r = await handlers.getOverview(undefined);
      expect(r.ok && r.value.trayAvailable).toBe(tray);
      // The overview crosses the typed contract: main validates what it sends.
      expect(overviewSchema.safeParse(r.ok && r.value).success).toBe(true);
    }
  });

  it('saves the exported .pka through the dialog and reports a cancel', async () => {
    const bytes = Uint8Array.of(0x30, 0x00);
    const backend: CustodianBackend = {
      ...createUnavailableBackend('x'),
      exportPka: async () => ({ ok: true, value: { fileName: 'KEY.pka', bytes } }),
    };
    const saved: [string, Uint8Array][] = [];
    let cancel = false;
    const handlers = createIpcHandlers({
      backend,
      settings: settingsStub(),
      version: '1',
      openExternal: async () => {},
      saveFile: async (name, b) => {
        saved.push([name, b]);
        return cancel ? undefined : `/home/u/${name}`;
      },
    });
    expect(await handlers.exportPka({ reader: 'r' })).toEqual({
      ok: true,
      value: { saved: true, fileName: '/home/u/KEY.pka' },
    });
    cancel = true;
    expect(await handlers.exportPka({ reader: 'r' })).toEqual({
      ok: true,
      value: { saved: false, fileName: 'KEY.pka' },
    });
    expect(saved[0]?.[1]).toBe(bytes);
  });

  it('opens only allowlisted links and updates settings', async () => {
    const opened: string[] = [];
    const handlers = createIpcHandlers({
      backend: createUnavailableBackend('x'),
      settings: settingsStub(),
      version: '1',
      openExternal: async (u) => void opened.push(u),
      saveFile: async () => undefined,
    });
    expect(await handlers.openExternal({ url: 'file:///etc/passwd' })).toEqual({
      ok: true,
      value: false,
    });
    expect(await handlers.openExternal({ url: 'https://example.com/' })).toEqual({
      ok: true,
      value: true,
    });
    expect(opened).toEqual(['https://example.com/']);
    const r = await handlers.updateSettings({ theme: 'dark' });
    expect(r.ok && r.value.theme).toBe('dark');
  });
});
