/**
 * One ceremony: what would be unlocked (target device id and its chain as this app checked
 * it), why, who asked, k of n with who approved, time left, and approve/decline.
 * Approving needs a genuine chain, or a chain to a TEST root configured on this computer plus
 * the custodian's explicit, per-ceremony acknowledgement; a chain that failed or ends in an
 * unknown root can never be approved (project rule: trust anchors are explicit, test roots only
 * by configuration and shown loudly).
 * @module
 */
import type { IpcError } from '../../shared/ipc/errors';
import type { CeremonyDetail } from '../../shared/ipc/model';
import { effectiveStatus } from '../../shared/ipc/ceremony-rules';
import { Badge, ErrorNotice, Panel, TestFlag } from '../components/common';
import { ceremonyStatusText, formatTime } from '../format';
import { CheckedPanel, FirstTimeNotice, StatedPanel } from './trust-panels';

/** Detail view props. */
export type CeremonyDetailProps = {
  readonly ceremony: CeremonyDetail | null;
  readonly error: IpcError | null;
  readonly canApprove: boolean;
  /** Why approving is not possible right now (no card, no key …). */
  readonly approveHint: string | null;
  /** The custodian ticked the TEST-root acknowledgement for this ceremony's anchor. */
  readonly testAcknowledged: boolean;
  readonly onAcknowledgeTest: (checked: boolean) => void;
  readonly onApprove: () => void;
  readonly onDecline: () => void;
  readonly onBack: () => void;
  /** Name of the ceremony's server (as the invitation named it), for the first-time warning. */
  readonly serverName?: string;
  readonly now?: () => number;
};

/** The ceremony detail view. */
export function CeremonyDetailView(props: CeremonyDetailProps) {
  const c = props.ceremony;
  // A TEST target needs its root's name: the acknowledgement names exactly that root.
  const testRoot = c !== null && c.targetChain.status === 'test' ? c.targetChain.anchor : undefined;
  const status = c === null ? 'waiting' : effectiveStatus(c, (props.now ?? Date.now)());
  const open = status === 'waiting';
  const chainOk =
    c !== null &&
    (c.targetChain.status === 'genuine' || (testRoot !== undefined && props.testAcknowledged));
  return (
    <div className="view">
      <header className="view-header">
        <button type="button" className="button button-link" onClick={props.onBack}>
          ← All ceremonies
        </button>
      </header>
      {props.error === null ? null : <ErrorNotice error={props.error} />}
      {c === null ? (
        props.error === null ? (
          <p className="empty">Loading…</p>
        ) : null
      ) : (
        <>
          <div className="detail-title">
            {c.targetChain.status === 'test' ? <TestFlag anchor={c.targetChain.anchor} /> : null}
            <h1 tabIndex={-1}>{c.purpose}</h1>
            <Badge tone={ceremonyStatusText(status).tone}>{ceremonyStatusText(status).text}</Badge>
          </div>
          {open && c.targetHistory?.approvedBefore === false ? (
            <FirstTimeNotice deviceId={c.targetDeviceId} serverName={props.serverName} />
          ) : null}
          <div className="trust-grid">
            <CheckedPanel
              deviceId={c.targetDeviceId}
              chain={c.targetChain}
              history={c.targetHistory}
            />
            <StatedPanel ceremony={c} open={open} />
          </div>
          <Panel
            title={`Quorum: ${c.approvals} of ${c.required} approvals (${c.total} custodians)`}
          >
            <meter
              className="quorum-meter"
              min={0}
              max={c.required}
              value={Math.min(c.approvals, c.required)}
              aria-label={`${c.approvals} of ${c.required} approvals`}
            />
            <ul className="custodians">
              {c.custodians.map((p) => (
                <li key={p.name} className={`custodian custodian-${p.state}`}>
                  <span>
                    {p.name}
                    {p.me ? ' (you)' : ''}
                  </span>
                  <span>
                    {p.state === 'approved'
                      ? `Approved${p.at === undefined ? '' : ` · ${formatTime(p.at)}`}`
                      : p.state === 'declined'
                        ? 'Declined'
                        : status === 'quorum' || c.approvals >= c.required
                          ? 'Not needed'
                          : open || status === 'approved'
                            ? 'Not yet'
                            : 'Did not answer'}
                  </span>
                </li>
              ))}
            </ul>
          </Panel>
          {open ? (
            <div className="decision">
              {testRoot !== undefined ? (
                <div className="notice notice-danger" role="alert">
                  <p className="notice-title">
                    <TestFlag anchor={testRoot} /> This target chains to a TEST root
                  </p>
                  <p>
                    <span className="mono">{testRoot}</span> is a test root configured on this
                    computer, not CardContact's production root. A genuine SmartCard-HSM never
                    chains to it: approve only if this is a test installation you expected.
                  </p>
                  <div className="setting test-ack">
                    <input
                      id="ack-test-root"
                      type="checkbox"
                      checked={props.testAcknowledged}
                      onChange={(e) => props.onAcknowledgeTest(e.target.checked)}
                    />
                    <label htmlFor="ack-test-root">
                      I know this target chains to the TEST root {testRoot} configured on this
                      computer, not to CardContact's production root
                    </label>
                  </div>
                </div>
              ) : c.targetChain.status !== 'genuine' ? (
                <div className="notice notice-danger" role="alert">
                  <p className="notice-title">Do not approve</p>
                  <p>This app could not confirm that the target is a genuine HSM.</p>
                </div>
              ) : null}
              {props.approveHint === null ? null : <p className="hint">{props.approveHint}</p>}
              <div className="actions">
                <button
                  type="button"
                  className="button button-danger-outline"
                  onClick={props.onDecline}
                >
                  Decline
                </button>
                <button
                  type="button"
                  className="button button-primary"
                  onClick={props.onApprove}
                  disabled={!props.canApprove || !chainOk}
                >
                  Approve…
                </button>
              </div>
            </div>
          ) : null}
        </>
      )}
    </div>
  );
}
