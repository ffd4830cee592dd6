/**
 * Small building blocks shared by the views: error notices in plain words, status badges,
 * the expiry countdown and the modal dialog frame.
 * @module
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { describeIpcError, type IpcError } from '../../shared/ipc/errors';
import { formatRemaining, type Tone } from '../format';

/** An error in words a custodian understands, with the technical detail folded away. */
export function ErrorNotice(props: { error: IpcError; onRetry?: () => void }) {
  const { title, detail } = describeIpcError(props.error);
  return (
    <div className="notice notice-danger" role="alert">
      <p className="notice-title">{title}</p>
      <p>{detail}</p>
      <details>
        <summary>Technical details</summary>
        <code>
          {props.error.code}: {props.error.message}
        </code>
      </details>
      {props.onRetry === undefined ? null : (
        <button type="button" className="button" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A coloured status badge with text (colour is never the only signal). */
export function Badge(props: { tone: Tone; children: ReactNode }) {
  return <span className={`badge badge-${props.tone}`}>{props.children}</span>;
}

/**
 * The loud red TEST flag of a target whose chain ends in a root configured on this computer
 * (not built in): shown on the list, the detail and inside the PIN dialog. The words say it,
 * not only the colour.
 */
export function TestFlag(props: { anchor: string | undefined }) {
  const root = props.anchor === undefined ? 'a test root' : `the test root ${props.anchor}`;
  return (
    <span className="flag flag-test" title={`TEST target: chains to ${root}, not to production`}>
      TEST
    </span>
  );
}

/** The red flag of a target this app could not confirm as genuine (never approvable). */
export function NotGenuineFlag() {
  return (
    <span className="flag flag-danger" title="The target's certificate chain did not check out">
      NOT GENUINE
    </span>
  );
}

/** Time left until `expiresAt`, updated every second. */
export function Countdown(props: { expiresAt: string; now?: () => number }) {
  const now = props.now ?? Date.now;
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Date.parse(props.expiresAt) - now();
  const urgent = left > 0 && left < 10 * 60_000;
  return (
    <span className={urgent ? 'countdown countdown-urgent' : 'countdown'}>
      {left > 0 ? `${formatRemaining(left)} left` : 'expired'}
    </span>
  );
}

/** A titled section card. */
export function Panel(props: { title: string; actions?: ReactNode; children: ReactNode }) {
  const id = useId();
  return (
    <section className="panel" aria-labelledby={id}>
      <header className="panel-header">
        <h2 id={id}>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

/** A term/description list row. */
export function Fact(props: { term: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

/** Modal dialog on the native <dialog> element: focus is trapped, Escape cancels. */
export function Modal(props: {
  title: string;
  onCancel: () => void;
  children: ReactNode;
  labelledBy?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}
