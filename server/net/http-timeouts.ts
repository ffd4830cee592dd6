/**
 * HTTP timeouts of the admin API listener, and the one rule that ties them to every client:
 * a client drops an idle kept-alive connection well before the server does
 * (`ADMIN_CLIENT_IDLE_MS` in server/admin-cli/admin-client.ts). When both sides used the same
 * idle time (Node's default 5 s), a client whose event loop was busy when its idle timer was
 * due (a long synchronous loop in the same process, as in `npm run bench`) sent its next request
 * on the connection the server was closing at that moment, and the request failed ("other side
 * closed"). Signing requests are not idempotent, so the client must not retry them: the margin
 * between the two idle times is what prevents the failure.
 * @module
 */
import type { Server } from 'node:http';

/** The listener's timeouts (milliseconds). */
export type HttpTimeouts = {
  /** How long an idle kept-alive connection stays open (announced as `Keep-Alive: timeout=…`). */
  readonly keepAliveMs: number;
  /** How long a client may take to send a request's headers, from its first byte. */
  readonly headersMs: number;
  /** How long a client may take to send a whole request. */
  readonly requestMs: number;
};

/**
 * The defaults: slow or stuck clients must not hold sockets open (headers and request limits),
 * and idle connections live far longer than the admin client keeps them (4 s),
 * so a client that is late by up to ~25 s still finds its connection open.
 */
export const HTTP_TIMEOUTS: HttpTimeouts = {
  keepAliveMs: 30_000,
  headersMs: 10_000,
  requestMs: 30_000,
};

/** Applies `t` to a listener (the SSE stream is a response, so it is not affected). */
export function applyHttpTimeouts(server: Server, t: HttpTimeouts = HTTP_TIMEOUTS): void {
  server.keepAliveTimeout = t.keepAliveMs;
  server.headersTimeout = t.headersMs;
  server.requestTimeout = t.requestMs;
}
