/**
 * "Start at login": Electron's login item API on macOS and Windows; an XDG autostart entry on
 * Linux, where Electron has none. The app starts hidden in the tray (`--hidden`).
 * @module
 */

/** Argument that starts the app in the tray without a window. */
export const HIDDEN_ARG = '--hidden';

/** The slice of Electron's `app` used on macOS/Windows. */
export type LoginItemPort = {
  setLoginItemSettings(settings: {
    openAtLogin: boolean;
    openAsHidden?: boolean;
    path?: string;
    args?: string[];
  }): void;
};

/**
 * The program an XDG autostart entry must start. Inside an AppImage, `process.execPath` is in
 * the temporary mount (`/tmp/.mount_…`) that disappears when the app quits, so the entry names
 * the AppImage file itself (`$APPIMAGE`, set by the AppImage runtime); a deb (or any other
 * install) starts its installed binary.
 */
export function linuxAutostartExec(
  execPath: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const appImage = env['APPIMAGE'];
  if (appImage !== undefined && appImage !== '') {
    if (!appImage.startsWith('/') || /\/\.mount_/.test(appImage))
      throw new Error('auto-start: APPIMAGE is not the path of an AppImage file');
    return appImage;
  }
  return execPath;
}

/** File access for the Linux autostart entry. */
export type AutostartFiles = {
  write(path: string, text: string): Promise<void>;
  remove(path: string): Promise<void>;
};

/** The XDG desktop entry that starts the app at login. */
export function autostartDesktopEntry(execPath: string): string {
  if (/[\n\r"`$\\]/.test(execPath)) throw new Error('auto-start: unsafe executable path');
  // Desktop Entry spec: a literal % in Exec is written %%.
  const exec = execPath.replace(/%/g, '%%');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Custodian',
    'Comment=Approve SmartCard-HSM key ceremonies',
    `Exec="${exec}" ${HIDDEN_ARG}`,
    'X-GNOME-Autostart-enabled=true',
    'NoDisplay=false',
    '',
  ].join('\n');
}

/** Turns start-at-login on or off for the current platform. */
export async function applyAutoStart(options: {
  enabled: boolean;
  platform: string;
  app: LoginItemPort;
  execPath: string;
  /** `~/.config/autostart/custodian.desktop` (or $XDG_CONFIG_HOME). */
  linuxEntryPath: string;
  files: AutostartFiles;
  /** The process environment (AppImage: `APPIMAGE`). */
  env?: Readonly<Record<string, string | undefined>>;
}): Promise<void> {
  const { enabled, platform } = options;
  if (platform === 'linux') {
    const exec = linuxAutostartExec(options.execPath, options.env ?? {});
    if (enabled) await options.files.write(options.linuxEntryPath, autostartDesktopEntry(exec));
    else await options.files.remove(options.linuxEntryPath);
    return;
  }
  if (!enabled) {
    options.app.setLoginItemSettings({ openAtLogin: false });
    return;
  }
  // Windows (NSIS install): the registry Run entry names the installed exe with --hidden.
  // macOS: a login item; openAsHidden plus the argument (newer macOS ignores openAsHidden).
  options.app.setLoginItemSettings(
    platform === 'win32'
      ? { openAtLogin: true, path: options.execPath, args: [HIDDEN_ARG] }
      : { openAtLogin: true, openAsHidden: true, args: [HIDDEN_ARG] },
  );
}
