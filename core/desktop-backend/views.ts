/**
 * Small mappings from engine state to the desktop app's view model.
 * @module
 */
import type { TrustAnchor } from '../../shared/cvc/chain';
import type { ServerView } from '../../shared/ipc/model';
import type { ConnectionState } from '../net/ws-client';
import { anchorViews } from './anchors';
import type { ServerHome } from './server-homes';
import { NO_TLS_FINGERPRINT, displayUrlOf } from './server-setup';

export { anchorViews };

/** A configured server as the UI lists it. */
export function serverViewOf(
  home: ServerHome,
  state: ServerView['state'],
  anchors: readonly TrustAnchor[],
): ServerView {
  const url = home.config.server.url;
  return {
    id: home.id,
    url: displayUrlOf(url),
    name: home.config.server.name ?? hostOf(url),
    nameSource: home.config.server.name === undefined ? 'address' : 'invitation',
    custodianName: home.config.custodianId ?? '',
    // Pinned fingerprint; a plain loopback server (tests) has no certificate.
    tlsFingerprint: (home.config.server.fingerprint ?? NO_TLS_FINGERPRINT).toUpperCase(),
    anchors: anchorViews(anchors),
    ...(home.config.keyChr === undefined ? {} : { keyChr: home.config.keyChr }),
    ...(home.config.reader === undefined ? {} : { reader: home.config.reader }),
    state,
  };
}

/** The server badge for a connection state. */
export function serverStateOf(state: ConnectionState): ServerView['state'] {
  switch (state.kind) {
    case 'authenticated':
      return 'connected';
    case 'connecting':
    case 'open':
      return 'connecting';
    case 'waiting':
      return 'offline';
    case 'stopped':
      // A close with a code is the server ending the session (e.g. credential refused).
      return state.code !== undefined ? 'error' : 'offline';
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url.slice(0, 500);
  }
}
