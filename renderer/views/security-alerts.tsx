/**
 * Security alerts in the app: each offer the engine refused (untrusted chain, wrong target,
 * hostile script, replaced offer …) and each server it gave up on, in red, with what was refused
 * and why, what the server claimed (not verified), the advice to tell the security officer out
 * of band, and "Decline & report" while the ceremony is still open here. Only alerts not seen
 * before are announced (`role="alert"`); seen ones stay listed quietly.
 * @module
 */
import { useEffect } from 'react';
import type { IpcError } from '../../shared/ipc/errors';
import { ALERT_ADVICE } from '../../shared/ipc/alert-text';
import type { SecurityAlert } from '../../shared/ipc/trust-model';
import { ErrorNotice, Fact } from '../components/common';
import { formatTime } from '../format';

/** Security alert list props. */
export type SecurityAlertsProps = {
  readonly alerts: readonly SecurityAlert[];
  readonly seen: ReadonlySet<string>;
  readonly reporting: string | null;
  readonly error: IpcError | null;
  readonly onReport: (alertId: string) => void;
  /** Called when the list leaves the screen, with the ids it showed. */
  readonly onSeen: (ids: readonly string[]) => void;
};

/** The security alerts (nothing when there are none). */
export function SecurityAlerts(props: SecurityAlertsProps) {
  const ids = props.alerts.map((a) => a.id).join(',');
  const { onSeen } = props;
  useEffect(() => () => onSeen(ids === '' ? [] : ids.split(',')), [ids, onSeen]);
  if (props.alerts.length === 0) return null;
  return (
    <section className="alerts" aria-labelledby="alerts-heading">
      <h2 id="alerts-heading" className="subhead subhead-danger">
        Security alerts ({props.alerts.length})
      </h2>
      {props.error === null ? null : <ErrorNotice error={props.error} />}
      <ul className="alert-list">
        {props.alerts.map((a) => (
          <li key={a.id}>
            <AlertCard
              alert={a}
              fresh={!props.seen.has(a.id) && !a.reported}
              busy={props.reporting === a.id}
              onReport={() => props.onReport(a.id)}
            />
          </li>
        ))}
      </ul>
    </section>
  );
}

function AlertCard(props: {
  alert: SecurityAlert;
  fresh: boolean;
  busy: boolean;
  onReport: () => void;
}) {
  const a = props.alert;
  const titleId = `alert-${a.id}`;
  return (
    <article
      className={a.reported ? 'security-alert security-alert-reported' : 'security-alert'}
      aria-labelledby={titleId}
      role={props.fresh ? 'alert' : undefined}
    >
      <p className="notice-title" id={titleId}>
        <span className="flag flag-danger">SECURITY</span> {a.title}
      </p>
      <p>{a.reason}</p>
      {a.stated === undefined ? null : (
        <>
          <p className="hint">What the server stated (not verified):</p>
          <dl className="facts facts-compact">
            <Fact term="Purpose">{a.stated.purpose}</Fact>
            <Fact term="Target">
              {a.stated.targetLabel} · <span className="mono">{a.stated.targetDeviceId}</span>
            </Fact>
            <Fact term="Requested by">{a.stated.requester}</Fact>
          </dl>
        </>
      )}
      <p className="hint">
        {a.serverName} · {formatTime(a.at)}
      </p>
      {a.reported ? (
        <p className="alert-outcome">
          Reported. Nothing was signed. Make sure your security officer has heard from you directly.
        </p>
      ) : (
        <p className="alert-advice">
          <strong>What to do:</strong> {ALERT_ADVICE}
        </p>
      )}
      {!a.reported && a.kind === 'offer-refused' && !a.ceremonyOpen ? (
        <p className="hint">This app already refused it: nothing reached your card’s key.</p>
      ) : null}
      <details>
        <summary>Technical details</summary>
        <code>
          {a.code}: {a.detail}
          {a.ceremonyId === undefined ? '' : ` (ceremony ${a.ceremonyId}`}
          {a.offerId === undefined ? '' : `, offer ${a.offerId}`}
          {a.ceremonyId === undefined ? '' : ')'}
        </code>
      </details>
      {a.reported ? null : (
        <div className="actions">
          <button
            type="button"
            className={a.ceremonyOpen ? 'button button-danger' : 'button'}
            disabled={props.busy}
            onClick={props.onReport}
          >
            {props.busy ? 'Saving…' : a.ceremonyOpen ? 'Decline & report' : 'Mark as reported'}
          </button>
        </div>
      )}
    </article>
  );
}
