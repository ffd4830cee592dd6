/**
 * Composition root of the desktop app: creates Electron objects and hands them to the services
 * (each of which is unit-tested with fakes). No logic of its own beyond wiring.
 * @module
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  dialog,
  nativeImage,
  nativeTheme,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import { pcscCardAccess } from '../../core/desktop-backend/card-access';
import { createEngineBackend } from '../../core/desktop-backend/engine-backend';
import { custodianHome } from '../../core/config/custodian-config';
import { openPcsc } from '../../core/pcsc/pcsc-adapter';
import type { NavigateRequest } from '../../shared/ipc/model';
import { APP_ENTRY_URL, APP_SCHEME, createAppProtocolHandler } from './app-protocol';
import { HIDDEN_ARG, applyAutoStart } from './auto-start';
import { createUnavailableBackend, type CustodianBackend } from './backend';
import { createCredentialStore, type CredentialStore } from './credential-store';
import { bindInvokeHandlers } from './ipc/electron-ipc';
import { createEventSender } from './ipc/ipc-main';
import { createSenderCheck } from './ipc/sender-trust';
import { createIpcHandlers } from './ipc-handlers';
import { createNotificationService } from './notification-service';
import { encodePng } from './png';
import { hardenSession, hardenWebContents } from './security';
import { appMenuTemplate } from './app-menu';
import { createMainWindow, windowBackground } from './main-window';
import { createSettingsStore } from './settings-store';
import { absentTray, createTrayService, openTray } from './tray-service';
import { createWindowService } from './window-service';
import { messageOf } from '../../shared/error-message';
import { writeFileAtomic } from '../../core/fs/atomic-write';

const isDev = !app.isPackaged && process.env['CUSTODIAN_DEV'] === '1';
const log = (line: string) => console.log(`[custodian] ${line}`);
let quitting = false;

/**
 * The one call of shell.openExternal. Every caller passes URLs through the scheme allowlist
 * first (external-links.ts); this hands only allowlisted https:/mailto: URLs to the OS.
 */
const openLink = (url: string): Promise<void> => shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK

// reference: Electron security checklist — a standard, secure custom scheme instead of file://.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true } },
]);

if (!app.requestSingleInstanceLock()) app.quit();

app.on('web-contents-created', (_event, contents) => {
  hardenWebContents(contents, {
    isDev,
    log,
    openLink: (url) => void openLink(url),
  });
});

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, data, 0o600);
}

/**
 * The engine adapter over the custodian home (shared with the CLI), PC/SC and the OS secret
 * store. When it cannot start (damaged config, unreadable trust anchor, audit log failing
 * verification), the stand-in answers every call with the reason, so the UI says why.
 */
async function createBackend(credentials: CredentialStore): Promise<CustodianBackend> {
  try {
    const backend = await createEngineBackend({
      home: custodianHome(),
      cards: pcscCardAccess(() => openPcsc()),
      credentials,
      client: { name: 'custodian-desktop', version: app.getVersion() },
      log,
    });
    backend.start();
    app.on('will-quit', () => void backend.stop());
    return backend;
  } catch (e) {
    const reason = messageOf(e);
    log(`engine not started: ${reason}`);
    return createUnavailableBackend(`the custodian engine could not start: ${reason}`);
  }
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession, log);
  const rendererRoot = join(__dirname, '..', 'renderer');
  session.defaultSession.protocol.handle(
    APP_SCHEME,
    createAppProtocolHandler(async (relative) => {
      const full = normalize(join(rendererRoot, relative));
      if (!full.startsWith(rendererRoot + sep)) throw new Error('outside renderer root');
      return new Uint8Array(await readFile(full));
    }),
  );

  const userData = app.getPath('userData');
  const settings = createSettingsStore(
    join(userData, 'settings.json'),
    {
      read: (p) => readFile(p, 'utf8'),
      write: (p, text) => writeAtomic(p, text),
    },
    log,
  );
  const current = await settings.load();
  nativeTheme.themeSource = current.theme;
  // Main owns the session credential (safeStorage); the engine adapter gets the store.
  const credentials = createCredentialStore(
    safeStorage,
    {
      read: (p) =>
        readFile(p).then(
          (b) => new Uint8Array(b),
          () => undefined,
        ),
      write: (p, b) => writeAtomic(p, b),
      remove: (p) => rm(p, { force: true }),
    },
    join(userData, 'credentials'),
    process.platform,
  );
  const backend = await createBackend(credentials);

  // Set once the tray was tried below (before any window opens); until then as with a tray.
  let trayAvailable = true;
  const windows = createWindowService({
    entryUrl: APP_ENTRY_URL,
    closeToTray: () => settings.current().closeToTray,
    trayAvailable: () => trayAvailable,
    onNoTray: () => {
      if (!Notification.isSupported()) return;
      new Notification({
        title: 'No system tray on this desktop',
        body: 'Custodian keeps running as a minimized window instead. Quit it from its menu.',
      }).show();
    },
    isQuitting: () => quitting,
    log,
    create: () =>
      createMainWindow(
        BrowserWindow,
        join(__dirname, '..', 'preload', 'preload.cjs'),
        isDev,
        nativeTheme.shouldUseDarkColors,
      ),
    onFirstHide: () => {
      if (!Notification.isSupported()) return;
      new Notification({
        title: 'Custodian is still running',
        body: 'It keeps watching for ceremonies in the tray. Quit from the tray menu or turn this off in Settings.',
      }).show();
    },
  });
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate(process.platform, {
        open: (view) => open({ view }),
        quit: () => {
          quitting = true;
          app.quit();
        },
      }).map((i) => ({ ...i })) as Parameters<typeof Menu.buildFromTemplate>[0],
    ),
  );
  // "Keep running in the tray" off: closing the last window really quits.
  app.on('window-all-closed', () => {
    if (!settings.current().closeToTray) {
      quitting = true;
      app.quit();
    }
  });
  const send = createEventSender(() => {
    const w = windows.current();
    return w === undefined ? [] : [w.webContents];
  }, log);
  const open = (nav?: NavigateRequest) => {
    void windows.open().then(() => {
      if (nav !== undefined) send('onNavigate', nav);
    });
  };

  // Tried before the renderer can ask: the overview tells Settings when there is no tray.
  const trayPort = openTray(() => new Tray(nativeImage.createEmpty()), log);
  trayAvailable = trayPort !== undefined;
  bindInvokeHandlers(
    createIpcHandlers({
      backend,
      settings,
      version: app.getVersion(),
      trayAvailable: () => trayAvailable,
      openExternal: openLink,
      async saveFile(name, bytes) {
        const choice = await dialog.showSaveDialog({
          defaultPath: name,
          filters: [{ name: 'PKA file', extensions: ['pka'] }],
        });
        if (choice.canceled || choice.filePath === undefined) return undefined;
        await writeFile(choice.filePath, bytes);
        return choice.filePath;
      },
    }),
    createSenderCheck(() => windows.trustedIds()),
    log,
  );

  const tray = createTrayService({
    tray: trayPort ?? absentTray(),
    image: (b) => nativeImage.createFromBuffer(Buffer.from(encodePng(b.width, b.height, b.rgba))),
    menu: (items) => Menu.buildFromTemplate(items.map((i) => ({ ...i }))),
    open,
    quit: () => {
      quitting = true;
      app.quit();
    },
    size: process.platform === 'darwin' ? 22 : 32,
  });
  const notifications = createNotificationService({
    create: (options) => new Notification(options),
    isSupported: () => Notification.isSupported(),
    enabled: () => settings.current().notifications,
    doNotDisturb: () => settings.current().doNotDisturb,
    sound: () => settings.current().sound,
    reminderMinutes: () => settings.current().reminderMinutes,
    open,
  });
  // Expiry reminders and the tray's time left need a clock, not only server events.
  setInterval(() => {
    notifications.tick();
    tray.refresh();
  }, 20_000).unref();
  backend.subscribe((event) => {
    if (event.type === 'ceremonies') {
      send('onCeremonies', [...event.ceremonies]);
      tray.update(event.ceremonies);
      notifications.update(event.ceremonies);
    } else if (event.type === 'readers') send('onReaders', [...event.readers]);
    else if (event.type === 'servers') {
      send('onServers', [...event.servers]);
      tray.setConnection(event.servers.every((srv) => srv.state === 'connected'));
    } else if (event.type === 'alerts') {
      send('onAlerts', [...event.alerts]);
      notifications.alerts(event.alerts);
    } else send('onTrace', event.entry);
  });
  settings.onChange((next, previous) => {
    nativeTheme.themeSource = next.theme;
    windows.current()?.setBackgroundColor?.(windowBackground(nativeTheme.shouldUseDarkColors));
    if (next.startAtLogin !== previous.startAtLogin) {
      void applyAutoStart({
        enabled: next.startAtLogin,
        platform: process.platform,
        app,
        execPath: process.execPath,
        env: process.env,
        linuxEntryPath: join(
          process.env['XDG_CONFIG_HOME'] ?? join(app.getPath('home'), '.config'),
          'autostart',
          'custodian.desktop',
        ),
        files: { write: (p, t) => writeAtomic(p, t), remove: (p) => rm(p, { force: true }) },
      }).catch((e: unknown) => log(`auto-start: ${messageOf(e)}`));
    }
  });

  app.on('second-instance', () => open());
  app.on('activate', () => open());
  if (!process.argv.includes(HIDDEN_ARG)) open();
}

app.on('before-quit', () => {
  quitting = true;
});
// Until start() registers the real handler, closing a window must not quit the app.
app.on('window-all-closed', () => {});
app.whenReady().then(start, (e: unknown) => {
  log(`start failed: ${messageOf(e)}`);
  app.exit(1);
});
