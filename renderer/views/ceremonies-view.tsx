/**
 * The ceremonies list: what waits for this custodian first, with purpose, target, progress and
 * time left; security alerts above it. A target chaining to a TEST root (configured, not built
 * in) carries the red TEST flag in its row. A target whose chain did not check out is never
 * "waiting for you" (shared/ipc/ceremony-rules.ts): it is listed apart as "Do not approve".
 * Rows' accessible names leave out the ticking countdown (aria-hidden).
 * @module
 */
import type { ReactNode } from 'react';
import { effectiveStatus, isActionable, isNotGenuine } from '../../shared/ipc/ceremony-rules';
import type { IpcError } from '../../shared/ipc/errors';
import type { CeremonySummary } from '../../shared/ipc/model';
import { Badge, Countdown, ErrorNotice, NotGenuineFlag, TestFlag } from '../components/common';
import { ceremonyStatusText } from '../format';

/** Ceremonies list props. */
export type CeremoniesViewProps = {
  readonly list: readonly CeremonySummary[];
  readonly error: IpcError | null;
  readonly loading: boolean;
  readonly onOpen: (ceremonyId: string) => void;
  readonly onRefresh: () => void;
  /** Security alerts, shown above the list. */
  readonly alerts?: ReactNode;
  /** Every server is connected; otherwise the count is unknown (never "nothing waiting"). */
  readonly connected?: boolean;
  readonly now?: () => number;
};

/** The ceremonies list. */
export function CeremoniesView(props: CeremoniesViewProps) {
  const now = (props.now ?? Date.now)();
  const waiting = props.list.filter((c) => isActionable(c, now));
  const refused = props.list.filter((c) => c.status === 'waiting' && isNotGenuine(c));
  const others = props.list.filter((c) => !waiting.includes(c) && !refused.includes(c));
  return (
    <div className="view">
      <header className="view-header">
        <h1 tabIndex={-1}>Ceremonies</h1>
        <button type="button" className="button" onClick={props.onRefresh} disabled={props.loading}>
          {props.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </header>
      {props.error === null ? null : <ErrorNotice error={props.error} onRetry={props.onRefresh} />}
      {props.alerts}
      <h2 className="subhead">
        Waiting for you (
        {props.connected === false ? 'unknown while not connected' : waiting.length})
      </h2>
      {waiting.length === 0 && props.error !== null ? null : waiting.length === 0 &&
        props.connected === false ? (
        <p className="empty">
          Not connected: this app cannot tell whether anything waits for you right now.
        </p>
      ) : waiting.length === 0 ? (
        <p className="empty">
          Nothing waits for your approval. You will get a notification when it does.
        </p>
      ) : (
        <CeremonyList list={waiting} onOpen={props.onOpen} now={now} />
      )}
      {refused.length === 0 ? null : (
        <>
          <h2 className="subhead subhead-danger">Do not approve ({refused.length})</h2>
          <p className="hint">
            This app could not confirm these targets are genuine HSMs. They can never be approved.
          </p>
          <CeremonyList list={refused} onOpen={props.onOpen} now={now} />
        </>
      )}
      {others.length === 0 ? null : (
        <>
          <h2 className="subhead">Earlier</h2>
          <CeremonyList list={others} onOpen={props.onOpen} now={now} />
        </>
      )}
    </div>
  );
}

function CeremonyList(props: {
  list: readonly CeremonySummary[];
  onOpen: (id: string) => void;
  now: number;
}) {
  return (
    <ul className="ceremonies">
      {props.list.map((c) => {
        const notGenuine = isNotGenuine(c);
        const shown = effectiveStatus(c, props.now);
        const status =
          notGenuine && shown === 'waiting'
            ? { text: 'Do not approve', tone: 'danger' as const }
            : ceremonyStatusText(shown);
        return (
          <li key={c.id}>
            <button type="button" className="ceremony-row" onClick={() => props.onOpen(c.id)}>
              <span className="ceremony-main">
                <span className="ceremony-purpose">
                  {c.targetChain?.status === 'test' ? (
                    <>
                      <TestFlag anchor={c.targetChain.anchor} />{' '}
                    </>
                  ) : notGenuine ? (
                    <>
                      <NotGenuineFlag />{' '}
                    </>
                  ) : null}
                  {c.purpose}
                </span>
                <span className="ceremony-meta">
                  <span className="mono">{c.targetDeviceId}</span> · {c.targetLabel} · requested by{' '}
                  {c.requester}
                </span>
              </span>
              <span className="ceremony-side">
                <Badge tone={status.tone}>{status.text}</Badge>
                <span className="ceremony-progress">
                  {c.approvals} of {c.required} approvals
                </span>
                {shown === 'waiting' && !notGenuine ? (
                  // Not part of the row's name: a ticking countdown would be re-read constantly.
                  <span aria-hidden="true">
                    <Countdown expiresAt={c.expiresAt} />
                  </span>
                ) : null}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
