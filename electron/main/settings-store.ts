/**
 * User settings in a JSON file under the app's userData directory. What is read back is
 * validated against the contract's schema; a damaged or foreign file falls back to the
 * defaults (and is replaced on the next change) instead of crashing the app.
 * @module
 */
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from '../../shared/ipc/model';

/** File access the store needs (node:fs/promises in production). */
export type SettingsFiles = {
  read(path: string): Promise<string | undefined>;
  /** Writes atomically (temporary file + rename). */
  write(path: string, text: string): Promise<void>;
};

/** The settings store. */
export type SettingsStore = {
  load(): Promise<Settings>;
  current(): Settings;
  /** Applies a validated partial update, persists it and returns the new settings. */
  update(patch: Partial<Settings>): Promise<Settings>;
  /** Called after every successful update. */
  onChange(listener: (next: Settings, previous: Settings) => void): () => void;
};

/** Largest settings file read (a bigger one is not ours). */
const MAX_FILE = 64 * 1024;

/** Creates the store for `path`. */
export function createSettingsStore(
  path: string,
  files: SettingsFiles,
  log: (line: string) => void = () => {},
): SettingsStore {
  let settings: Settings = { ...DEFAULT_SETTINGS };
  const listeners = new Set<(next: Settings, previous: Settings) => void>();
  return {
    async load() {
      const text = await files.read(path).catch(() => undefined);
      if (text === undefined) return settings;
      if (text.length > MAX_FILE) {
        log('settings: file too large, using defaults');
        return settings;
      }
      try {
        const parsed = settingsSchema.partial().safeParse(JSON.parse(text));
        if (parsed.success) {
          settings = settingsSchema.parse({ ...DEFAULT_SETTINGS, ...stripUndefined(parsed.data) });
        } else log('settings: invalid file, using defaults');
      } catch {
        log('settings: unreadable file, using defaults');
      }
      return settings;
    },
    current: () => settings,
    async update(patch) {
      const next = settingsSchema.parse({ ...settings, ...stripUndefined(patch) });
      await files.write(path, `${JSON.stringify(next, null, 2)}\n`);
      const previous = settings;
      settings = next;
      for (const l of listeners) l(next, previous);
      return next;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
