/**
 * Hardening of every window, web contents and session (Electron security checklist). All
 * Electron objects come in by injection, so each rule is unit-tested with fakes.
 * @module
 */
import { allowedExternalUrl } from './external-links';

// The renderer's Content-Security-Policy has one definition, in shared/ (also used by the UI
// test server and checked against renderer/index.html).
export { RENDERER_CSP } from '../../shared/renderer-csp';

/** Minimal event with preventDefault. */
export type Preventable = { preventDefault(): void };

/** The slice of a web contents the hardening touches. */
export type HardenableContents = {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (e: Preventable, url: string) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (e: Preventable) => void): unknown;
  on(event: 'devtools-opened', listener: () => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  closeDevTools(): void;
};

/**
 * Denies navigation, redirects, new windows and webviews for one web contents. Links the
 * renderer asks to open in a new window go to the OS browser only when the scheme is allowed.
 */
export function hardenWebContents(
  contents: HardenableContents,
  options: { openLink: (url: string) => void; isDev: boolean; log?: (line: string) => void },
): void {
  const log = options.log ?? (() => {});
  const deny = (what: string) => (e: Preventable, url: string) => {
    e.preventDefault();
    log(`security: blocked ${what} to ${url.slice(0, 200)}`);
  };
  contents.on('will-navigate', deny('navigation'));
  contents.on('will-redirect', deny('redirect'));
  contents.on('will-attach-webview', (e) => {
    e.preventDefault();
    log('security: blocked a webview');
  });
  contents.setWindowOpenHandler(({ url }) => {
    const allowed = allowedExternalUrl(url);
    if (allowed !== undefined) options.openLink(allowed);
    else log(`security: blocked window.open of ${url.slice(0, 200)}`);
    return { action: 'deny' };
  });
  if (!options.isDev) contents.on('devtools-opened', () => contents.closeDevTools());
}

/** The slice of a session the hardening touches. */
export type HardenableSession = {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: () => boolean): void;
  setDevicePermissionHandler(handler: () => boolean): void;
  webRequest: {
    onBeforeRequest(
      listener: (
        details: { url: string },
        callback: (response: { cancel: boolean }) => void,
      ) => void,
    ): void;
  };
};

/** Schemes a renderer session may load at all. */
const SESSION_SCHEMES = ['app:', 'devtools:', 'data:'];

/**
 * Denies every permission request and check (camera, notifications, HID, USB, serial …) and
 * cancels every request that is not for the app's own scheme: the renderer never talks to the
 * network, even if a CSP bug let it try.
 */
export function hardenSession(
  session: HardenableSession,
  log: (line: string) => void = () => {},
): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log(`security: denied permission ${permission}`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = SESSION_SCHEMES.some((s) => details.url.startsWith(s));
    if (!allowed) log(`security: cancelled request to ${details.url.slice(0, 200)}`);
    callback({ cancel: !allowed });
  });
}
