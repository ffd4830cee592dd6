/**
 * After approve or decline: what happened, where the quorum stands, and whether the firewall
 * had to block anything the server asked (docs/card-reference.md §12.2).
 * @module
 */
import type { CeremonyResult } from '../../shared/ipc/model';

/** Result view props. */
export type ResultViewProps = {
  readonly result: CeremonyResult;
  readonly purpose: string | null;
  readonly onDone: () => void;
  readonly onTrace: () => void;
};

/** The result view. */
export function ResultView(props: ResultViewProps) {
  const r = props.result;
  const heading =
    r.outcome === 'quorum'
      ? 'Quorum reached'
      : r.outcome === 'approved'
        ? 'Your approval was accepted'
        : 'You declined';
  const text =
    r.outcome === 'quorum'
      ? `All ${r.required} required approvals are in. The target HSM is unlocked for this operation.`
      : r.outcome === 'approved'
        ? `${r.approvals} of ${r.required} approvals so far. The other custodians have been asked.`
        : 'Nothing was signed. The requester has been told.';
  return (
    <div className="view result">
      <div className={`result-card result-${r.outcome}`} role="status">
        <div className="result-icon" aria-hidden="true">
          {r.outcome === 'declined' ? '–' : '✓'}
        </div>
        <h1>{heading}</h1>
        {props.purpose === null ? null : <p className="quote">{props.purpose}</p>}
        <p>{text}</p>
        {r.blocked > 0 ? (
          <div className="notice notice-attention">
            <p className="notice-title">
              The app blocked {r.blocked} command{r.blocked === 1 ? '' : 's'} from the server
            </p>
            <p>
              The server asked your card for something you did not approve. Your card never ran it.
              Tell your administrator and look at the APDU trace.
            </p>
            <button type="button" className="button" onClick={props.onTrace}>
              Open APDU trace
            </button>
          </div>
        ) : null}
        <div className="actions">
          <button type="button" className="button button-primary" onClick={props.onDone} autoFocus>
            Back to ceremonies
          </button>
        </div>
      </div>
    </div>
  );
}
