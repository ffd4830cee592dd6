/**
 * The app shell: sidebar navigation and the view for the current route. Connects the zustand
 * stores to the views, which only take props.
 * @module
 */
import { useEffect } from 'react';
import { useStore } from 'zustand';
import { actionable, soonestExpiry } from '../shared/ipc/ceremony-rules';
import { ErrorNotice } from './components/common';
import type { Route } from './stores/app-store';
import type { Stores } from './stores/create-stores';
import { CurrentView } from './current-view';
import { FirstRunView } from './views/first-run-view';

const NAV: readonly { view: Route['view']; label: string }[] = [
  { view: 'ceremonies', label: 'Ceremonies' },
  { view: 'card', label: 'Card and reader' },
  { view: 'audit', label: 'Audit log' },
  { view: 'trace', label: 'APDU trace' },
  { view: 'settings', label: 'Settings' },
];

const TITLES: Readonly<Record<string, string>> = {
  'first-run': 'Set up',
  card: 'Card and reader',
  ceremonies: 'Ceremonies',
  ceremony: 'Ceremony',
  result: 'Result',
  audit: 'Audit log',
  trace: 'APDU trace',
  settings: 'Settings',
};

const SERVER_STATE = {
  connected: 'Connected',
  connecting: 'Connecting…',
  offline: 'Offline — retrying',
  error: 'Connection problem',
} as const;

/** The whole UI for one set of stores. */
export function App(props: { stores: Stores }) {
  const { stores } = props;
  const app = useStore(stores.app);
  // The same rule as the tray (shared/ipc/ceremony-rules.ts): never a non-genuine target.
  const waiting = useStore(stores.ceremonies, (s) => actionable(s.list).length);
  const route = app.route;
  const offline = app.servers.filter((s) => s.state !== 'connected');
  const dialogOpen = useStore(stores.ceremonies, (s) => s.dialog !== null);
  // While a dialog is open, its ceremony is re-checked against this computer's clock every
  // second: an expired ceremony closes the dialog with an explanation and never takes a PIN.
  useEffect(() => {
    if (!dialogOpen) return;
    const t = setInterval(() => stores.ceremonies.getState().checkOpen(), 1000);
    return () => clearInterval(t);
  }, [dialogOpen, stores]);

  useEffect(() => {
    document.documentElement.dataset['theme'] = app.settings.theme;
  }, [app.settings.theme]);
  useEffect(() => {
    void stores.app.getState().load();
  }, [stores]);
  useEffect(() => {
    if (app.status !== 'ready' || route.view === 'first-run') return;
    void stores.ceremonies.getState().refresh();
    void stores.card.getState().refresh();
    void stores.alerts.getState().refresh();
  }, [app.status, route.view === 'first-run', stores]);
  useEffect(() => {
    if (route.view === 'ceremony' && route.ceremonyId !== undefined) {
      void stores.ceremonies.getState().open(route.ceremonyId);
    } else if (route.view === 'audit') void stores.audit.getState().refresh();
    else if (route.view === 'trace') void stores.trace.getState().refresh();
  }, [route.view, route.ceremonyId, stores]);

  // The document (and so the window) title names the view and the count.
  const soonest = useStore(stores.ceremonies, (s) => soonestExpiry(s.list));
  useEffect(() => {
    const view = TITLES[route.view] ?? 'Custodian';
    const count =
      route.view === 'first-run'
        ? ''
        : offline.length > 0
          ? ' — not connected'
          : waiting > 0
            ? ` — ${waiting} waiting${soonest === undefined ? '' : `, next expires ${new Date(soonest).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}`}`
            : '';
    document.title = `Custodian${count} · ${view}`;
  }, [route.view, waiting, offline.length, soonest]);
  // Focus moves to the view's heading on navigation (screen readers announce the new view).
  useEffect(() => {
    if (app.status !== 'ready') return;
    const t = setTimeout(() => {
      const h = document.querySelector<HTMLElement>('main h1, .first-run h1');
      if (h === null) return;
      if (!h.hasAttribute('tabindex')) h.tabIndex = -1;
      h.focus({ preventScroll: false });
    }, 0);
    return () => clearTimeout(t);
  }, [route.view, route.ceremonyId, app.status]);

  if (app.status === 'loading') return <p className="boot">Starting Custodian…</p>;
  if (app.status === 'failed' && app.error !== null) {
    return (
      <main className="boot">
        <ErrorNotice error={app.error} onRetry={() => void stores.app.getState().load()} />
      </main>
    );
  }
  if (route.view === 'first-run') return <FirstRun stores={stores} />;
  const server = app.servers[0];
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Custodian
        </div>
        <ul>
          {NAV.map((n) => {
            const current =
              route.view === n.view ||
              (n.view === 'ceremonies' && (route.view === 'ceremony' || route.view === 'result'));
            return (
              <li key={n.view}>
                <button
                  type="button"
                  className={current ? 'nav-item nav-current' : 'nav-item'}
                  aria-current={current ? 'page' : undefined}
                  onClick={() => stores.app.getState().navigate({ view: n.view })}
                >
                  {n.label}
                  {n.view !== 'ceremonies' ? null : offline.length > 0 ? (
                    // Not connected: the count is unknown, never a reassuring 0.
                    <span className="nav-count nav-count-unknown" aria-label="count unknown">
                      ?
                    </span>
                  ) : waiting > 0 ? (
                    <span className="nav-count" aria-label={`${waiting} waiting`}>
                      {waiting}
                    </span>
                  ) : null}
                </button>
              </li>
            );
          })}
        </ul>
        {server === undefined ? null : (
          <div className="server-status">
            <span className={`dot dot-${server.state}`} aria-hidden="true" />
            <span>
              {server.name}
              <br />
              <span className="hint">{SERVER_STATE[server.state]}</span>
            </span>
          </div>
        )}
      </nav>
      <main className="content">
        {offline.map((s) => (
          <OfflineBanner
            key={s.id}
            name={s.name}
            state={s.state}
            since={app.disconnectedSince[s.id]}
          />
        ))}
        <CurrentView stores={stores} route={route} />
      </main>
    </div>
  );
}

/** "Not connected to Acme PKI since 14:02 — retrying" (a server that is not connected). */
function OfflineBanner(props: { name: string; state: string; since: string | undefined }) {
  const since =
    props.since === undefined
      ? ''
      : ` since ${new Date(props.since).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}`;
  return (
    <div className="offline-banner" role="status">
      <strong>
        Not connected to {props.name}
        {since}
      </strong>{' '}
      —{' '}
      {props.state === 'error'
        ? 'the server ended the session; see Settings.'
        : 'retrying. Requests waiting for you are not shown until it is back.'}
    </div>
  );
}

function FirstRun(props: { stores: Stores }) {
  const s = useStore(props.stores.servers);
  return (
    <FirstRunView
      step={s.step}
      busy={s.busy}
      preview={s.preview}
      error={s.error}
      added={s.added}
      onReview={(url, invite) => void s.review(url, invite)}
      onBack={s.back}
      onConfirm={(url, invite, startAtLogin) =>
        void s.confirm(url, invite).then(async (server) => {
          if (server === undefined) return;
          // Offered in first run (docs/desktop-app.md "Tray"): saved only once connected.
          if (startAtLogin) await props.stores.settings.getState().save({ startAtLogin: true });
        })
      }
      onFinish={() => {
        const app = props.stores.app.getState();
        // Server events may have updated it while the steps were shown: never go back to the
        // state it had when it was added (it would say "connecting" while it is connected).
        if (s.added !== null && !app.servers.some((x) => x.id === s.added?.id))
          app.setServers([...app.servers, s.added]);
        app.navigate({ view: 'card' });
      }}
    />
  );
}
