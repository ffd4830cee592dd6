/**
 * Mounts the UI for a bridge. Shared by the production entry (bridge from the preload) and the
 * development entry (fake bridge).
 * @module
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { CustodianApi } from '../shared/ipc/contract';
import { App } from './app';
import { createStores } from './stores/create-stores';

/** Renders the app into `element`; returns an unmount function. */
export function mountApp(element: HTMLElement, api: CustodianApi): () => void {
  const stores = createStores(api);
  const root = createRoot(element);
  root.render(
    <StrictMode>
      <App stores={stores} />
    </StrictMode>,
  );
  return () => {
    root.unmount();
    stores.dispose();
  };
}
