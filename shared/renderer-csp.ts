/**
 * The desktop renderer's Content-Security-Policy, defined once: the app:// protocol handler
 * (electron/main) sends it as a header, build/serve-ui.mjs serves the UI-test build with the same
 * header, and the `<meta>` of renderer/index.html carries the directives a meta element can
 * (checked by test/unit/electron/security.test.ts). `connect-src 'none'`: the renderer has no
 * network at all; main owns the server connection and the card (docs/card-reference.md §14.2).
 * @module
 */

/** The CSP directives, in order. */
export const RENDERER_CSP_DIRECTIVES: readonly string[] = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
];

/** The CSP header value. */
export const RENDERER_CSP = RENDERER_CSP_DIRECTIVES.join('; ');

/** Directives browsers ignore in a `<meta>` CSP (CSP Level 3 §3.3), so the meta omits them. */
const HEADER_ONLY = ['frame-ancestors', 'report-uri', 'sandbox'];

/** The CSP of the `<meta http-equiv>` in renderer/index.html. */
export const RENDERER_CSP_META = RENDERER_CSP_DIRECTIVES.filter(
  (d) => !HEADER_ONLY.includes(d.split(' ')[0] ?? ''),
).join('; ');
