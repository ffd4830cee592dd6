import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../shared/ipc/model';
import {
  HIDDEN_ARG,
  applyAutoStart,
  autostartDesktopEntry,
} from '../../../electron/main/auto-start';
import {
  createCredentialStore,
  type SafeStoragePort,
} from '../../../electron/main/credential-store';
import { createSettingsStore } from '../../../electron/main/settings-store';
import { createWindowService, type WindowPort } from '../../../electron/main/window-service';
import { openTray } from '../../../electron/main/tray-service';
import { appMenuTemplate, type AppMenuItem } from '../../../electron/main/app-menu';
import { createMainWindow, windowBackground } from '../../../electron/main/main-window';

function memoryFiles<T>() {
  const files = new Map<string, T>();
  return {
    files,
    read: async (p: string) => files.get(p),
    write: async (p: string, v: T) => void files.set(p, v),
    remove: async (p: string) => void files.delete(p),
  };
}

describe('settings store', () => {
  it('starts from defaults when the file is missing, damaged, foreign or too large', async () => {
    for (const content of [undefined, '{not json', '{"theme":"neon"}', 'x'.repeat(70_000)]) {
      const fs = memoryFiles<string>();
      if (content !== undefined) fs.files.set('/s.json', content);
      const store = createSettingsStore('/s.json', fs);
      expect(await store.load(), String(content).slice(0, 20)).toEqual(DEFAULT_SETTINGS);
    }
  });

  it('keeps valid fields of a partial file', async () => {
    const fs = memoryFiles<string>();
    fs.files.set('/s.json', JSON.stringify({ theme: 'dark' }));
    expect((await createSettingsStore('/s.json', fs).load()).theme).toBe('dark');
  });

  it('validates, persists and announces updates', async () => {
    const fs = memoryFiles<string>();
    const store = createSettingsStore('/s.json', fs);
    await store.load();
    const changes: [boolean, boolean][] = [];
    store.onChange((next, prev) => changes.push([prev.startAtLogin, next.startAtLogin]));
    const next = await store.update({ startAtLogin: true });
    expect(next.startAtLogin).toBe(true);
    expect(JSON.parse(fs.files.get('/s.json') ?? '{}')).toEqual(next);
    expect(changes).toEqual([[false, true]]);
    await expect(store.update({ theme: 'neon' as never })).rejects.toThrow();
    expect(store.current().theme).toBe('system');
  });
});

describe('credential store', () => {
  const storage = (available: boolean, backend = 'gnome_libsecret'): SafeStoragePort => ({
    isEncryptionAvailable: () => available,
    encryptString: (s) => new TextEncoder().encode(`enc:${[...s].reverse().join('')}`),
    decryptString: (b) => {
      const t = new TextDecoder().decode(b);
      if (!t.startsWith('enc:')) throw new Error('bad');
      return [...t.slice(4)].reverse().join('');
    },
    getSelectedStorageBackend: () => backend,
  });

  it('stores the credential encrypted and reads it back', async () => {
    const fs = memoryFiles<Uint8Array>();
    const store = createCredentialStore(storage(true), fs, '/cred', 'linux');
    expect(await store.save('srv-1', 'secret-credential')).toBeUndefined();
    const [path, bytes] = [...fs.files.entries()][0] ?? ['', new Uint8Array()];
    expect(path.startsWith('/cred/credential-')).toBe(true);
    expect(new TextDecoder().decode(bytes)).not.toContain('secret-credential');
    expect(await store.load('srv-1')).toBe('secret-credential');
    expect(await store.load('srv-2')).toBeUndefined();
    await store.remove('srv-1');
    expect(fs.files.size).toBe(0);
  });

  it('refuses to store without a real OS secret store', async () => {
    for (const [available, backend, platform] of [
      [false, 'gnome_libsecret', 'linux'],
      [true, 'basic_text', 'linux'],
      [false, 'unknown', 'win32'],
    ] as const) {
      const fs = memoryFiles<Uint8Array>();
      const store = createCredentialStore(storage(available, backend), fs, '/c', platform);
      expect(store.available()).toBe(false);
      expect((await store.save('s', 'x'))?.code).toBe('no-encryption');
      expect(fs.files.size).toBe(0);
    }
    expect(
      createCredentialStore(storage(true, 'basic_text'), memoryFiles(), '/c', 'darwin').available(),
    ).toBe(true);
  });

  it('reports a credential it cannot decrypt', async () => {
    const fs = memoryFiles<Uint8Array>();
    const store = createCredentialStore(storage(true), fs, '/c', 'linux');
    await store.save('s', 'x');
    for (const key of fs.files.keys()) fs.files.set(key, new TextEncoder().encode('garbage'));
    expect(await store.load('s')).toEqual({ code: 'unreadable', message: expect.any(String) });
  });
});

describe('auto start', () => {
  it('writes and removes an XDG autostart entry on Linux', async () => {
    const fs = memoryFiles<string>();
    const base = {
      platform: 'linux',
      app: {
        setLoginItemSettings: () => {
          throw new Error('not on linux');
        },
      },
      execPath: '/opt/Custodian/custodian',
      linuxEntryPath: '/h/.config/autostart/custodian.desktop',
      files: fs,
    };
    await applyAutoStart({ ...base, enabled: true });
    const entry = fs.files.get(base.linuxEntryPath) ?? '';
    expect(entry).toContain('Exec="/opt/Custodian/custodian" --hidden');
    expect(entry).toContain('[Desktop Entry]');
    await applyAutoStart({ ...base, enabled: false });
    expect(fs.files.size).toBe(0);
  });

  it('uses login items on macOS and Windows, starting hidden', async () => {
    const seen: unknown[] = [];
    const base = {
      app: { setLoginItemSettings: (s: unknown) => void seen.push(s) },
      execPath: 'x',
      linuxEntryPath: 'y',
      files: memoryFiles<string>(),
    };
    await applyAutoStart({ ...base, platform: 'darwin', enabled: true });
    await applyAutoStart({ ...base, platform: 'win32', enabled: false });
    expect(seen).toEqual([
      { openAtLogin: true, openAsHidden: true, args: [HIDDEN_ARG] },
      { openAtLogin: false },
    ]);
  });

  it('refuses executable paths that would break the desktop entry', () => {
    for (const bad of ['/a"b', '/a\nExec=rm', '/a$(x)', '/a`x`', '/a\\b']) {
      expect(() => autostartDesktopEntry(bad), bad).toThrow();
    }
  });
});

describe('window service', () => {
  function fakeWindow(id: number) {
    const listeners = new Map<string, ((e?: { preventDefault(): void }) => void)[]>();
    const state = {
      shown: 0,
      hidden: 0,
      focused: 0,
      restored: 0,
      destroyed: false,
      minimized: false,
      loaded: [] as string[],
    };
    const win: WindowPort = {
      webContents: { id, isDestroyed: () => state.destroyed, send: () => {} },
      loadURL: async (u) => void state.loaded.push(u),
      show: () => void state.shown++,
      hide: () => void state.hidden++,
      focus: () => void state.focused++,
      restore: () => void state.restored++,
      isMinimized: () => state.minimized,
      isDestroyed: () => state.destroyed,
      on: ((event: string, l: (e?: { preventDefault(): void }) => void) => {
        listeners.set(event, [...(listeners.get(event) ?? []), l]);
      }) as WindowPort['on'],
    };
    const fire = (event: string, e?: { preventDefault(): void }) =>
      listeners.get(event)?.forEach((l) => l(e));
    return { win, state, fire };
  }

  it('without a tray, closing keeps a (minimized) window instead of hiding it, and says so once', async () => {
    let notices = 0;
    let hides = 0;
    let minimized = 0;
    const w = fakeWindow(51);
    const win = { ...w.win, minimize: () => void minimized++ };
    const service = createWindowService({
      create: () => win,
      entryUrl: 'app://custodian/index.html',
      closeToTray: () => true,
      isQuitting: () => false,
      trayAvailable: () => false,
      onNoTray: () => notices++,
      onFirstHide: () => hides++,
    });
    await service.open();
    let prevented = 0;
    w.fire('close', { preventDefault: () => prevented++ });
    w.fire('close', { preventDefault: () => prevented++ });
    expect([prevented, minimized, w.state.hidden, hides, notices]).toEqual([2, 2, 0, 0, 1]);
  });

  it('a tray that cannot be created is reported as absent, not thrown', () => {
    const lines: string[] = [];
    expect(
      openTray(
        () => {
          throw new Error('no StatusNotifier host');
        },
        (l) => lines.push(l),
      ),
    ).toBeUndefined();
    expect(lines.join()).toMatch(/not available.*StatusNotifier/);
    expect(openTray(() => 'tray')).toBe('tray');
  });

  it('the first hide to the tray is announced once', async () => {
    let notices = 0;
    const w = fakeWindow(50);
    const service = createWindowService({
      create: () => w.win,
      entryUrl: 'app://custodian/index.html',
      closeToTray: () => true,
      isQuitting: () => false,
      onFirstHide: () => notices++,
    });
    await service.open();
    w.fire('close', { preventDefault: () => {} });
    w.fire('close', { preventDefault: () => {} });
    expect(notices).toBe(1);
  });

  it('creates one window, reuses it, and hides it on close when keeping to the tray', async () => {
    const made: ReturnType<typeof fakeWindow>[] = [];
    let quitting = false;
    let toTray = true;
    const service = createWindowService({
      create: () => {
        const w = fakeWindow(made.length + 10);
        made.push(w);
        return w.win;
      },
      entryUrl: 'app://custodian/index.html',
      closeToTray: () => toTray,
      isQuitting: () => quitting,
    });
    await service.open();
    await service.open();
    expect(made).toHaveLength(1);
    const w = made[0];
    if (w === undefined) throw new Error('no window');
    expect(w.state.loaded).toEqual(['app://custodian/index.html']);
    expect(service.trustedIds().has(10)).toBe(true);
    w.state.minimized = true;
    await service.open();
    expect(w.state.restored).toBe(1);

    let prevented = 0;
    w.fire('close', { preventDefault: () => prevented++ });
    expect([prevented, w.state.hidden]).toEqual([1, 1]);
    toTray = false;
    w.fire('close', { preventDefault: () => prevented++ });
    expect(prevented).toBe(1);
    toTray = true;
    quitting = true;
    w.fire('close', { preventDefault: () => prevented++ });
    expect(prevented).toBe(1);

    w.fire('closed');
    expect(service.trustedIds().has(10)).toBe(false);
    expect(service.current()).toBeUndefined();
    await service.open();
    expect(made).toHaveLength(2);
  });
});

describe('auto start per packaging', () => {
  const linux = (env: Record<string, string>, execPath: string) => {
    const fs = memoryFiles<string>();
    return {
      fs,
      run: (enabled: boolean) =>
        applyAutoStart({
          enabled,
          platform: 'linux',
          app: {
            setLoginItemSettings: () => {
              throw new Error('not on linux');
            },
          },
          execPath,
          linuxEntryPath: '/h/.config/autostart/custodian.desktop',
          files: fs,
          env,
        }),
    };
  };

  it('AppImage: the entry starts the AppImage file, never the temporary mount', async () => {
    const t = linux(
      { APPIMAGE: '/home/alice/Apps/Custodian-0.1.0.AppImage' },
      '/tmp/.mount_CustodXYZ/custodian',
    );
    await t.run(true);
    const entry = t.fs.files.get('/h/.config/autostart/custodian.desktop') ?? '';
    expect(entry).toContain('Exec="/home/alice/Apps/Custodian-0.1.0.AppImage" --hidden');
    expect(entry).not.toContain('.mount_');
    // A bogus APPIMAGE (relative, or the mount itself) is refused, not written.
    for (const bad of ['Custodian.AppImage', '/tmp/.mount_X/custodian']) {
      const u = linux({ APPIMAGE: bad }, '/tmp/.mount_X/custodian');
      await expect(u.run(true)).rejects.toThrow(/APPIMAGE/);
      expect(u.fs.files.size).toBe(0);
    }
  });

  it('deb: the entry starts the installed binary; a % is escaped per the spec', async () => {
    const t = linux({}, '/opt/Custodian/custodian');
    await t.run(true);
    expect(t.fs.files.get('/h/.config/autostart/custodian.desktop')).toContain(
      'Exec="/opt/Custodian/custodian" --hidden',
    );
    expect(autostartDesktopEntry('/opt/100%/custodian')).toContain('Exec="/opt/100%%/custodian"');
  });

  it('Windows names the installed exe with --hidden; macOS a hidden login item', async () => {
    const seen: unknown[] = [];
    const base = {
      app: { setLoginItemSettings: (s: unknown) => void seen.push(s) },
      execPath: 'C:\\Program Files\\Custodian\\Custodian.exe',
      linuxEntryPath: 'y',
      files: memoryFiles<string>(),
    };
    await applyAutoStart({ ...base, platform: 'win32', enabled: true });
    await applyAutoStart({ ...base, platform: 'darwin', enabled: true });
    await applyAutoStart({ ...base, platform: 'darwin', enabled: false });
    expect(seen).toEqual([
      {
        openAtLogin: true,
        path: 'C:\\Program Files\\Custodian\\Custodian.exe',
        args: [HIDDEN_ARG],
      },
      { openAtLogin: true, openAsHidden: true, args: [HIDDEN_ARG] },
      { openAtLogin: false },
    ]);
  });
});

describe('application menu, window background, tray notice', () => {
  const roles = (items: readonly AppMenuItem[]): string[] =>
    items.flatMap((i) =>
      'type' in i ? [] : [...(i.role === undefined ? [] : [i.role]), ...roles(i.submenu ?? [])],
    );
  const labels = (items: readonly AppMenuItem[]): string[] =>
    items.flatMap((i) =>
      'type' in i ? [] : [...(i.label === undefined ? [] : [i.label]), ...labels(i.submenu ?? [])],
    );

  it('our own menu: no reload, no DevTools, no Electron links; views and quit work', () => {
    for (const platform of ['linux', 'win32', 'darwin']) {
      const opened: string[] = [];
      let quit = 0;
      const menu = appMenuTemplate(platform, { open: (v) => opened.push(v), quit: () => quit++ });
      const all = [...roles(menu), ...labels(menu)].join(' ');
      expect(all, platform).not.toMatch(/reload|devtools|toggleDevTools|electron|learn more/i);
      expect(roles(menu), platform).toEqual(expect.arrayContaining(['copy', 'paste']));
      const view = menu.find((i) => !('type' in i) && i.label === 'View');
      const items = view !== undefined && !('type' in view) ? (view.submenu ?? []) : [];
      for (const i of items) if (!('type' in i)) i.click?.();
      expect(opened, platform).toEqual(['ceremonies', 'card', 'audit', 'trace', 'settings']);
      const quitItem = JSON.stringify(labels(menu));
      expect(quitItem).toContain('Quit Custodian');
      const find = (xs: readonly AppMenuItem[]): AppMenuItem | undefined =>
        xs
          .flatMap((i) => ('type' in i ? [] : [i, ...(i.submenu ?? [])]))
          .find((i) => !('type' in i) && i.label === 'Quit Custodian');
      const q = find(menu);
      if (q !== undefined && !('type' in q)) q.click?.();
      expect(quit, platform).toBe(1);
    }
  });

  it('the window background follows the theme and the window is usable from 640 px', () => {
    const seen: { backgroundColor?: string; minWidth?: number }[] = [];
    class FakeWindow {
      constructor(options: { backgroundColor?: string; minWidth?: number }) {
        seen.push(options);
      }
    }
    createMainWindow(FakeWindow as never, '/p.cjs', false, true);
    createMainWindow(FakeWindow as never, '/p.cjs', false, false);
    expect(seen.map((o) => o.backgroundColor)).toEqual([windowBackground(true), '#f5f6f8']);
    expect(windowBackground(true)).toBe('#0f1318');
    expect(seen[0]?.minWidth).toBeLessThanOrEqual(640);
  });
});
