/**
 * The PIN dialog of an approval (and the PIN field the key creation reuses). The PIN lives only
 * in this component's state while the dialog is open and is cleared the moment it is handed
 * to main; PIN-pad readers get "enter the PIN on your reader's keypad" instead of a field.
 * @module
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { USER_PIN_LENGTH } from '../../shared/sc-hsm/pin';
import type { IpcError } from '../../shared/ipc/errors';
import type { CeremonySummary } from '../../shared/ipc/model';
import { Countdown, ErrorNotice, Fact, Modal, TestFlag } from '../components/common';
import { chainText } from '../format';
import { historyText } from './trust-panels';

/**
 * The PIN input, or the keypad instruction, with tries left. On the last try there is one
 * message (with the confirmation inside it when `lastTryConfirm` is given), not three.
 * No browser-native validation bubbles: the form is `noValidate` and the caller checks.
 */
export function PinField(props: {
  pinPad: boolean;
  retries: number | undefined;
  value: string;
  onChange: (pin: string) => void;
  /** The button that starts the card operation (for the keypad instruction). */
  action?: string;
  /** Shown on the last try: the "I am sure" checkbox. */
  lastTryConfirm?: ReactNode;
  /** The PIN-pad reader is waiting for the keypad right now. */
  waiting?: boolean;
}) {
  const last = props.retries === 1;
  return (
    <div className="pin-field">
      {props.pinPad ? (
        <p className={props.waiting === true ? 'pinpad pinpad-waiting' : 'pinpad'} role="status">
          {props.waiting === true
            ? "Type your PIN on the reader's keypad now and confirm it there. To stop, press Cancel here or the reader's cancel key."
            : `Press ${props.action ?? 'Approve'}, then enter the PIN on your reader's keypad when it asks for it.`}
        </p>
      ) : (
        <>
          <label htmlFor="pin">Card PIN</label>
          <input
            id="pin"
            type="password"
            autoComplete="off"
            autoFocus
            inputMode="text"
            maxLength={USER_PIN_LENGTH.max}
            value={props.value}
            aria-describedby="pin-tries"
            onChange={(e) => props.onChange(e.target.value)}
          />
        </>
      )}
      {last ? (
        <div className="notice notice-danger last-try">
          <p className="notice-title">This is your last try</p>
          <p id="pin-tries">
            Last try: a wrong PIN now blocks your card. If you are not sure of the PIN, cancel now
            and ask your security officer; a blocked card needs the SO-PIN to be unblocked.
          </p>
          {props.lastTryConfirm}
        </div>
      ) : (
        <p id="pin-tries" className="tries">
          {props.retries === undefined
            ? null
            : `${props.retries} tries left before the card blocks.`}
        </p>
      )}
    </div>
  );
}

/** Approve dialog props. */
export type ApproveDialogProps = {
  readonly ceremony: CeremonySummary;
  /** The reader the card is in (the PIN goes to that card only). */
  readonly reader?: string;
  readonly pinPad: boolean;
  readonly retries: number | undefined;
  readonly busy: boolean;
  readonly error: IpcError | null;
  readonly onSubmit: (pin: string | undefined, confirmLastTry: boolean) => void;
  readonly onCancel: () => void;
  /** Cancels the PIN-pad entry the reader is waiting for (enabled only then). */
  readonly onCancelPinPad?: () => void;
};

/**
 * The approval PIN dialog. On the last try the custodian must tick a confirmation first. A TEST
 * target (chain to a configured root) keeps its red flag here too, right above the PIN.
 */
export function ApproveDialog(props: ApproveDialogProps) {
  const [pin, setPin] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const retries = props.error?.retriesLeft ?? props.retries;
  const lastTry = retries === 1;
  const c = props.ceremony;
  const history = historyText(c.targetHistory, c.targetDeviceId);
  const [formatError, setFormatError] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (lastTry && !confirmed) return;
    // Checked here, not by the browser: no native validation bubbles, no try spent.
    if (!props.pinPad && (pin.length < USER_PIN_LENGTH.min || pin.length > USER_PIN_LENGTH.max)) {
      setFormatError(true);
      return;
    }
    setFormatError(false);
    const given = pin;
    setPin('');
    props.onSubmit(props.pinPad ? undefined : given, lastTry && confirmed);
  };
  return (
    <Modal title="Approve with your card" onCancel={props.onCancel}>
      <form onSubmit={submit} noValidate>
        <p className="device-id device-id-dialog">
          <span className="device-id-label">Target device id · checked by this app</span>
          <span className="mono device-id-value">{c.targetDeviceId}</span>
        </p>
        <p className="hint">
          {c.targetChain === undefined ? null : <>{chainText(c.targetChain).text}. </>}
          {history.text} Your approval unlocks this device only.
        </p>
        {history.firstTime ? (
          <p className="notice notice-attention first-time">
            First request for this device: confirm with the requester before you approve.
          </p>
        ) : null}
        <p className="stated-heading">Stated by the requester (not verified)</p>
        <dl className="facts facts-compact">
          <Fact term="Label">{c.targetLabel}</Fact>
          <Fact term="Purpose">{c.purpose}</Fact>
          <Fact term="Requested by">{c.requester}</Fact>
          <Fact term="Quorum">
            {c.approvals} of {c.required} approvals so far ({c.total} custodians)
          </Fact>
          <Fact term="Time left">
            <Countdown expiresAt={c.expiresAt} />
          </Fact>
        </dl>
        {props.ceremony.targetChain?.status === 'test' ? (
          <div className="notice notice-danger test-target">
            <p className="notice-title">
              <TestFlag anchor={props.ceremony.targetChain.anchor} /> Target chains to a TEST root
            </p>
            <p>
              It chains to the test root{' '}
              <span className="mono">{props.ceremony.targetChain.anchor ?? '(unnamed)'}</span>{' '}
              configured on this computer, not to the production root. You confirmed this.
            </p>
          </div>
        ) : null}
        <PinField
          pinPad={props.pinPad}
          retries={retries}
          value={pin}
          onChange={setPin}
          waiting={props.busy}
          lastTryConfirm={
            <div className="setting">
              <input
                id="confirm-last-try"
                type="checkbox"
                checked={confirmed}
                onChange={(e) => setConfirmed(e.target.checked)}
              />
              <label htmlFor="confirm-last-try">
                I am sure of my PIN and want to use my last try
              </label>
            </div>
          }
        />
        {formatError ? (
          <p className="field-error" role="alert">
            The PIN has {USER_PIN_LENGTH.min} to {USER_PIN_LENGTH.max} characters. Nothing was sent
            to the card.
          </p>
        ) : null}
        <p className="hint pin-destination">
          {props.pinPad ? 'Your PIN stays in the reader' : 'Your PIN goes only to the card'}
          {props.reader === undefined ? '' : ` in ${props.reader}`}, never to the server.
        </p>
        {props.error === null || props.error.code === 'pin-last-try' ? null : (
          <ErrorNotice error={props.error} />
        )}
        <div className="actions">
          {props.busy && props.pinPad && props.onCancelPinPad !== undefined ? (
            // While the reader waits for the keypad, Cancel aborts that entry (nothing signs).
            <button type="button" className="button" onClick={props.onCancelPinPad}>
              Cancel
            </button>
          ) : (
            <button type="button" className="button" onClick={props.onCancel} disabled={props.busy}>
              Cancel
            </button>
          )}
          <button
            type="submit"
            className="button button-primary"
            disabled={props.busy || (lastTry && !confirmed)}
          >
            {props.busy ? (props.pinPad ? 'Waiting for the keypad…' : 'Signing…') : 'Approve'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** The decline dialog: an optional reason for the requester. */
export function DeclineDialog(props: {
  busy: boolean;
  error: IpcError | null;
  onSubmit: (reason: string) => void;
  onCancel: () => void;
}) {
  const [reason, setReason] = useState('');
  return (
    <Modal title="Decline this ceremony" onCancel={props.onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          props.onSubmit(reason);
        }}
      >
        <p>Nothing is signed. The requester sees that you declined.</p>
        <label htmlFor="decline-reason">Reason (optional)</label>
        <textarea
          id="decline-reason"
          rows={3}
          maxLength={500}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
        {props.error === null ? null : <ErrorNotice error={props.error} />}
        <div className="actions">
          <button type="button" className="button" onClick={props.onCancel} disabled={props.busy}>
            Cancel
          </button>
          <button type="submit" className="button button-danger" disabled={props.busy}>
            {props.busy ? 'Declining…' : 'Decline'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
