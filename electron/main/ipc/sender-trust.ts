/**
 * Who may talk to main: only the top-level frame of one of our own windows, showing our own
 * bundled renderer. Anything else (an iframe, a navigated-away page, a devtools extension, a
 * window we did not create) is dropped before validation even runs.
 * @module
 */

/** The part of an IPC event the check reads (Electron's IpcMainInvokeEvent has these). */
export type SenderInfo = {
  readonly sender: { readonly id: number };
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
};

/** Origin every renderer page is served from (see app-protocol.ts). */
export const APP_ORIGIN = 'app://custodian';

/**
 * Returns a predicate that accepts an event only when its frame is a top-level frame, its URL
 * is on {@link APP_ORIGIN}, and it belongs to a web contents id in `trustedIds()`.
 */
export function createSenderCheck(
  trustedIds: () => ReadonlySet<number>,
  origin: string = APP_ORIGIN,
): (event: SenderInfo) => boolean {
  return (event) => {
    const frame = event.senderFrame;
    if (frame === null || frame.parent !== null) return false;
    if (!trustedIds().has(event.sender.id)) return false;
    return isSameOrigin(frame.url, origin);
  };
}

/** True when `url` parses and its origin is exactly `origin` (no look-alike prefixes). */
export function isSameOrigin(url: string, origin: string): boolean {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}` === origin && parsed.username === '';
  } catch {
    return false;
  }
}
