/**
 * Settings of a fresh install (zod-free, so the renderer bundle does not pull in the schemas).
 * @module
 */
import type { Settings } from './model';

/** Defaults for a fresh install. */
export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  startAtLogin: false,
  notifications: true,
  closeToTray: true,
  reminderMinutes: [10, 2],
  doNotDisturb: false,
  sound: true,
};
