/**
 * The ceremonies list: what waits for this custodian first, with purpose, target, progress and
 * time left. A target chaining to a TEST root (configured, not built in) carries the red TEST
 * flag in its row; one whose chain did not check out carries NOT GENUINE.
 * @module
 */
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
};

/** The ceremonies list. */
export function CeremoniesView(props: CeremoniesViewProps) {
  const waiting = props.list.filter((c) => c.status === 'waiting');
  const others = props.list.filter((c) => c.status !== 'waiting');
  return (
    <div className="view">
      <header className="view-header">
        <h1>Ceremonies</h1>
        <button type="button" className="button" onClick={props.onRefresh} disabled={props.loading}>
          {props.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </header>
      {props.error === null ? null : <ErrorNotice error={props.error} onRetry={props.onRefresh} />}
      <h2 className="subhead">Waiting for you ({waiting.length})</h2>
      {waiting.length === 0 && props.error !== null ? null : waiting.length === 0 ? (
        <p className="empty">
          Nothing waits for your approval. You will get a notification when it does.
        </p>
      ) : (
        <CeremonyList list={waiting} onOpen={props.onOpen} />
      )}
      {others.length === 0 ? null : (
        <>
          <h2 className="subhead">Earlier</h2>
          <CeremonyList list={others} onOpen={props.onOpen} />
        </>
      )}
    </div>
  );
}

function CeremonyList(props: { list: readonly CeremonySummary[]; onOpen: (id: string) => void }) {
  return (
    <ul className="ceremonies">
      {props.list.map((c) => {
        const status = ceremonyStatusText(c.status);
        return (
          <li key={c.id}>
            <button type="button" className="ceremony-row" onClick={() => props.onOpen(c.id)}>
              <span className="ceremony-main">
                <span className="ceremony-purpose">
                  {c.targetChain?.status === 'test' ? (
                    <>
                      <TestFlag anchor={c.targetChain.anchor} />{' '}
                    </>
                  ) : c.targetChain?.status === 'untrusted' ||
                    c.targetChain?.status === 'invalid' ? (
                    <>
                      <NotGenuineFlag />{' '}
                    </>
                  ) : null}
                  {c.purpose}
                </span>
                <span className="ceremony-meta">
                  {c.targetLabel} · <span className="mono">{c.targetDeviceId}</span> · requested by{' '}
                  {c.requester}
                </span>
              </span>
              <span className="ceremony-side">
                <Badge tone={status.tone}>{status.text}</Badge>
                <span className="ceremony-progress">
                  {c.approvals} of {c.required} approvals
                </span>
                {c.status === 'waiting' ? <Countdown expiresAt={c.expiresAt} /> : null}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
