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
    args?: string[];
  }): void;
};

/** File access for the Linux autostart entry. */
export type AutostartFiles = {
  write(path: string, text: string): Promise<void>;
  remove(path: string): Promise<void>;
};

/** The XDG desktop entry that starts the app at login. */
export function autostartDesktopEntry(execPath: string): string {
  if (/[\n\r"`$\\]/.test(execPath)) throw new Error('auto-start: unsafe executable path');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Custodian',
    'Comment=Approve SmartCard-HSM key ceremonies',
    `Exec="${execPath}" ${HIDDEN_ARG}`,
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
}): Promise<void> {
  const { enabled, platform } = options;
  if (platform === 'linux') {
    if (enabled)
      await options.files.write(options.linuxEntryPath, autostartDesktopEntry(options.execPath));
    else await options.files.remove(options.linuxEntryPath);
    return;
  }
  options.app.setLoginItemSettings(
    enabled
      ? { openAtLogin: true, openAsHidden: true, args: [HIDDEN_ARG] }
      : { openAtLogin: false },
  );
}
