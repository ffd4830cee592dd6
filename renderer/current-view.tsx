/**
 * The view for the current route: connects the zustand stores to the views, which only take
 * props (split from app.tsx, which keeps the shell).
 * @module
 */
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import type { Route } from './stores/app-store';
import { testAckFor } from './stores/ceremonies-store';
import type { Stores } from './stores/create-stores';
import { CardView } from './views/card-view';
import { CeremoniesView } from './views/ceremonies-view';
import { CeremonyDetailView } from './views/ceremony-detail-view';
import { AuditView, TraceView } from './views/log-views';
import { ApproveDialog, DeclineDialog } from './views/pin-dialog';
import { ResultView } from './views/result-view';
import { SecurityAlerts } from './views/security-alerts';
import { SettingsView } from './views/settings-view';

/** The current view. */
export function CurrentView(props: { stores: Stores; route: Route }) {
  const { stores, route } = props;
  const card = useStore(stores.card);
  const cer = useStore(stores.ceremonies);
  const trace = useStore(stores.trace);
  const audit = useStore(stores.audit);
  const app = useStore(stores.app);
  const settings = useStore(stores.settings);
  const alerts = useStore(stores.alerts);
  const nav = stores.app.getState().navigate;
  const [, tick] = useState(0);
  const [traceCeremony, setTraceCeremony] = useState<string | undefined>(undefined);
  // Re-render each second on the ceremony views, so local expiry shows without a server push.
  const ticking = route.view === 'ceremony' || route.view === 'ceremonies';
  useEffect(() => {
    if (!ticking) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [ticking]);
  const list = (
    <CeremoniesView
      connected={app.servers.every((s) => s.state === 'connected')}
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
              ? 'Your PIN is blocked, so you cannot approve. Your security officer must unblock the card with the SO-PIN; this app cannot.'
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
              onCancelPinPad={() => void cer.cancelPinPad()}
              onSubmit={(pin, confirmLastTry) =>
                void cer.approve(c.reader, pin, confirmLastTry).then((ok) => {
                  // Wrong PIN (dialog) or blocked (closed the dialog): the card view follows.
                  const st = stores.ceremonies.getState();
                  const e = st.dialogError ?? st.detailError;
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
          ceremony={traceCeremony}
          onCeremony={setTraceCeremony}
        />
      );
    case 'settings':
      return (
        <SettingsView
          settings={app.settings}
          servers={app.servers}
          version={app.version}
          trayAvailable={app.trayAvailable}
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
