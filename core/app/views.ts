/**
 * Small mappings from engine state to the desktop app's view model.
 * @module
 */
import type { ServerView } from '../../shared/ipc/model';
import type { ConnectionState } from '../net/ws-client';

export { anchorViews } from './anchors';

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
