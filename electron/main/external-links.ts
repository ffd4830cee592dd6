/**
 * The only way a link leaves the app: a scheme allowlist in front of `shell.openExternal`.
 * `file:`, `javascript:`, custom handlers (`ms-msdt:`, `smb:` …) and anything with embedded
 * credentials are refused, because openExternal hands the URL to the OS.
 * @module
 */

/** Schemes the app will hand to the operating system. */
export const EXTERNAL_SCHEMES: ReadonlySet<string> = new Set(['https:', 'mailto:']);

/** Longest URL the app opens. */
const MAX_URL = 2048;

/**
 * Returns the normalised URL when it may be opened externally, else `undefined`.
 */
export function allowedExternalUrl(url: unknown): string | undefined {
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_URL) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!EXTERNAL_SCHEMES.has(parsed.protocol)) return undefined;
  if (parsed.username !== '' || parsed.password !== '') return undefined;
  if (parsed.protocol === 'https:' && parsed.hostname === '') return undefined;
  return parsed.href;
}

/**
 * Opens `url` through `open` when allowed; returns whether it was opened.
 */
export async function openExternalSafely(
  url: unknown,
  open: (url: string) => Promise<void>,
): Promise<boolean> {
  const allowed = allowedExternalUrl(url);
  if (allowed === undefined) return false;
  await open(allowed);
  return true;
}
