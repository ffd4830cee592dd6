/**
 * The `app://custodian/` scheme that serves the bundled renderer (Electron recommends a custom
 * protocol over `file://`). Path resolution is pure and refuses traversal, absolute paths,
 * encoded separators and unknown hosts; every response carries the renderer CSP.
 * @module
 */
import { RENDERER_CSP } from './security';

/** The scheme name (registered as privileged/standard before `app.ready`). */
export const APP_SCHEME = 'app';
/** The host every page uses. */
export const APP_HOST = 'custodian';
/** URL of the renderer entry page. */
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  png: 'image/png',
  svg: 'image/svg+xml',
  woff2: 'font/woff2',
  json: 'application/json',
};

/** A resolved request: the file below the root and its content type. */
export type AppAsset = { readonly relativePath: string; readonly contentType: string };

/**
 * Maps an `app://custodian/...` URL to a relative file path below the renderer root, or
 * `undefined` when the URL is not one of ours or tries to leave the root.
 */
export function resolveAppAsset(url: string): AppAsset | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return undefined;
  if (/%2f|%5c|%00/i.test(parsed.pathname)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  if (path === '/' || path === '') path = '/index.html';
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) {
    return undefined;
  }
  const ext = segments.at(-1)?.split('.').at(-1)?.toLowerCase() ?? '';
  const contentType = TYPES[ext];
  if (contentType === undefined) return undefined;
  return { relativePath: segments.join('/'), contentType };
}

/** Headers of every app:// response. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': RENDERER_CSP,
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
  };
}

/**
 * Builds the protocol handler: `readFile` gets the relative path and returns the bytes (or
 * throws when missing). Unknown paths answer 404, never a directory listing or a fallback.
 */
export function createAppProtocolHandler(
  readFile: (relativePath: string) => Promise<Uint8Array>,
): (request: { url: string }) => Promise<Response> {
  return async (request) => {
    const asset = resolveAppAsset(request.url);
    if (asset === undefined) return new Response('not found', { status: 404 });
    try {
      const body = await readFile(asset.relativePath);
      return new Response(body as Uint8Array<ArrayBuffer>, {
        status: 200,
        headers: appResponseHeaders(asset.contentType),
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  };
}
