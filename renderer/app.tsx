/**
 * The app shell: sidebar navigation and the view for the current route. Connects the zustand
 * stores to the views, which only take props.
 * @module
 */
import { useEffect } from 'react';
import { useStore } from 'zustand';
import { actionable } from '../shared/ipc/ceremony-rules';
import { ErrorNotice } from './components/common';
import type { Route } from './stores/app-store';
import { testAckFor } from './stores/ceremonies-store';
import type { Stores } from './stores/create-stores';
import { CardView } from './views/card-view';
import { CeremoniesView } from './views/ceremonies-view';
import { CeremonyDetailView } from './views/ceremony-detail-view';
import { FirstRunView } from './views/first-run-view';
import { AuditView, TraceView } from './views/log-views';
import { ApproveDialog, DeclineDialog } from './views/pin-dialog';
import { ResultView } from './views/result-view';
import { SecurityAlerts } from './views/security-alerts';
import { SettingsView } from './views/settings-view';

const NAV: readonly { view: Route['view']; label: string }[] = [
  { view: 'ceremonies', label: 'Ceremonies' },
  { view: 'card', label: 'Card and reader' },
  { view: 'audit', label: 'Audit log' },
  { view: 'trace', label: 'APDU trace' },
  { view: 'settings', label: 'Settings' },
];

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
                  {n.view === 'ceremonies' && waiting > 0 ? (
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
        <CurrentView stores={stores} route={route} />
      </main>
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
      onReview={(url, invite) => void s.review(url, invite)}
      onBack={s.back}
      onConfirm={(url, invite) =>
        void s.confirm(url, invite).then((server) => {
          if (server === undefined) return;
          props.stores.app.getState().setServers([server]);
          props.stores.app.getState().navigate({ view: 'card' });
        })
      }
    />
  );
}

function CurrentView(props: { stores: Stores; route: Route }) {
  const { stores, route } = props;
  const card = useStore(stores.card);
  const cer = useStore(stores.ceremonies);
  const trace = useStore(stores.trace);
  const audit = useStore(stores.audit);
  const app = useStore(stores.app);
  const settings = useStore(stores.settings);
  const alerts = useStore(stores.alerts);
  const nav = stores.app.getState().navigate;
  const list = (
    <CeremoniesView
      list={cer.list}
      error={cer.listError}
      loading={cer.loading}
      onOpen={(id) => nav({ view: 'ceremony', ceremonyId: id })}
      onRefresh={() => void cer.refresh()}
      alerts={
        <SecurityAlerts
          alerts={alerts.alerts}
          seen={alerts.seen}
          reporting={alerts.reporting}
          error={alerts.error}
          onReport={(id) => void alerts.report(id)}
          onSeen={alerts.markSeen}
        />
      }
    />
  );

  switch (route.view) {
    case 'card':
      return (
        <CardView
          {...card}
          onRefresh={() => void card.refresh()}
          onSelect={(r) => void card.select(r)}
          onCreateKey={card.createKey}
          onExport={() => void card.exportPka()}
        />
      );
    case 'ceremony': {
      const c = card.card;
      const hint =
        c === null
          ? 'Insert your custodian card to approve (see Card and reader).'
          : c.pkaKey === null
            ? 'Your card has no custodian key.'
            : c.pin.state === 'blocked'
              ? 'Your PIN is blocked; ask your security officer.'
              : null;
      const detail = cer.detail?.id === route.ceremonyId ? cer.detail : null;
      const serverName = app.servers.find((s) => s.id === detail?.serverId)?.name;
      return (
        <>
          <CeremonyDetailView
            ceremony={detail}
            error={cer.detailError}
            canApprove={hint === null}
            approveHint={hint}
            testAcknowledged={testAckFor(detail, cer.testAck) !== undefined}
            onAcknowledgeTest={cer.acknowledgeTest}
            onApprove={() => cer.openDialog('approve')}
            onDecline={() => cer.openDialog('decline')}
            onBack={() => nav({ view: 'ceremonies' })}
            {...(serverName === undefined ? {} : { serverName })}
          />
          {cer.dialog?.kind === 'approve' && detail !== null && c !== null ? (
            <ApproveDialog
              ceremony={detail}
              reader={c.reader}
              pinPad={c.pinPad}
              retries={c.pin.retries}
              busy={cer.busy}
              error={cer.dialogError}
              onCancel={cer.closeDialog}
              onSubmit={(pin, confirmLastTry) =>
                void cer.approve(c.reader, pin, confirmLastTry).then((ok) => {
                  const e = stores.ceremonies.getState().dialogError;
                  if (e?.retriesLeft !== undefined)
                    stores.card.getState().noteRetries(e.retriesLeft);
                  if (ok) nav({ view: 'result', ceremonyId: detail.id });
                })
              }
            />
          ) : null}
          {cer.dialog?.kind === 'decline' ? (
            <DeclineDialog
              busy={cer.busy}
              error={cer.dialogError}
              onCancel={cer.closeDialog}
              onSubmit={(reason) =>
                void cer.decline(reason).then((ok) => {
                  if (ok && detail !== null) nav({ view: 'result', ceremonyId: detail.id });
                })
              }
            />
          ) : null}
        </>
      );
    }
    case 'result':
      return cer.result === null ? (
        list
      ) : (
        <ResultView
          result={cer.result}
          purpose={cer.detail?.purpose ?? null}
          onDone={() => nav({ view: 'ceremonies' })}
          onTrace={() => nav({ view: 'trace' })}
        />
      );
    case 'audit':
      return <AuditView {...audit} onVerify={() => void audit.verify()} />;
    case 'trace':
      return (
        <TraceView
          entries={trace.entries}
          filter={trace.filter}
          error={trace.error}
          onFilter={trace.setFilter}
        />
      );
    case 'settings':
      return (
        <SettingsView
          settings={app.settings}
          servers={app.servers}
          version={app.version}
          saving={settings.saving}
          error={settings.error}
          onChange={(patch) =>
            void settings.save(patch).then((next) => {
              if (next !== undefined) stores.app.getState().setSettings(next);
            })
          }
        />
      );
    default:
      return list;
  }
}
