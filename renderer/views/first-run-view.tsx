/**
 * First run: add the management server with the invitation from the administrator. Step 1
 * shows what the invitation says — server, the custodian name it was issued for, the TLS
 * fingerprint to compare, and the trust anchors (test anchors in red) — before step 2 stores it.
 * @module
 */
import { useState, type FormEvent } from 'react';
import type { IpcError } from '../../shared/ipc/errors';
import type { ServerPreview, ServerView } from '../../shared/ipc/model';
import { EnrolledSteps } from './enrolled-steps';
import { Badge, ErrorNotice } from '../components/common';
import { groupFingerprint } from '../format';
import { addressOfInvitationUrl, parseInvitation } from '../../shared/ipc/invitation';

/** First-run view props. */
export type FirstRunProps = {
  readonly step: 'enter' | 'review' | 'done';
  readonly busy: boolean;
  readonly preview: ServerPreview | null;
  readonly error: IpcError | null;
  readonly onReview: (url: string, invite: string) => void;
  /** `startAtLogin`: the custodian ticked "Start Custodian when I log in". */
  readonly onConfirm: (url: string, invite: string, startAtLogin: boolean) => void;
  readonly onBack: () => void;
  /** The server just added (step `done`). */
  readonly added?: ServerView | null;
  /** Leaves first run after the enrollment sequence. */
  readonly onFinish?: () => void;
};

/** The first-run view. */
export function FirstRunView(props: FirstRunProps) {
  const [url, setUrl] = useState('');
  const [invite, setInvite] = useState('');
  const [pasted, setPasted] = useState('');
  // A pasted letter fills the address; its fingerprint is compared, not read by eye.
  const onInvite = (text: string) => {
    setInvite(text);
    const letter = parseInvitation(text);
    if (!letter.ok) return;
    if (letter.value.url !== undefined && url === '')
      setUrl(addressOfInvitationUrl(letter.value.url));
    if (letter.value.fingerprint !== undefined) setPasted(letter.value.fingerprint);
  };
  const [startAtLogin, setStartAtLogin] = useState(false);
  const mismatch =
    props.preview !== null &&
    compareFingerprint(pasted, props.preview.tlsFingerprint) === 'mismatch';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (props.step === 'enter') props.onReview(url, invite);
    // A pasted fingerprint that does not match is never accepted.
    else if (!mismatch) props.onConfirm(url, invite, startAtLogin);
  };
  const hasTest = props.preview?.anchors.some((a) => a.test) ?? false;
  // A test root from this computer's custodian config (the engine adapter lists its own roots).
  const configuredTest =
    props.preview?.anchors.some((a) => a.test && a.source === 'configured') ?? false;
  return (
    <main className="first-run" aria-labelledby="first-run-title">
      <div className="first-run-card">
        <h1 id="first-run-title">Welcome to Custodian</h1>
        <p className="lead">
          Your administrator sent you an invitation. Connect to their management server to take part
          in key ceremonies with your own SmartCard-HSM.
        </p>
        {props.step === 'done' && props.added ? (
          <EnrolledSteps server={props.added} onFinish={() => props.onFinish?.()} />
        ) : (
          <form onSubmit={submit}>
            {props.step === 'enter' ? (
              <>
                <label htmlFor="server-url">Server address</label>
                <input
                  id="server-url"
                  type="url"
                  inputMode="url"
                  autoComplete="off"
                  spellCheck={false}
                  placeholder="https://custody.example.com"
                  value={url}
                  required
                  onChange={(e) => setUrl(e.target.value)}
                />
                <label htmlFor="invite">Invitation</label>
                <textarea
                  id="invite"
                  rows={3}
                  spellCheck={false}
                  autoComplete="off"
                  placeholder="Paste the invitation (the whole letter, or just its token)"
                  value={invite}
                  required
                  onChange={(e) => onInvite(e.target.value)}
                />
                {props.error === null ? null : <ErrorNotice error={props.error} />}
                <div className="actions">
                  <button className="button button-primary" type="submit" disabled={props.busy}>
                    {props.busy ? 'Checking invitation…' : 'Check invitation'}
                  </button>
                </div>
              </>
            ) : props.preview === null ? null : (
              <>
                <dl className="facts">
                  <div className="fact">
                    <dt>Server</dt>
                    <dd>
                      <strong>{props.preview.name}</strong>
                      {props.preview.nameSource === 'invitation' ? (
                        <span className="hint"> (as your invitation names it)</span>
                      ) : null}
                      <br />
                      {/* The address is always shown: a lookalike name cannot hide the host. */}
                      <span className="mono">{props.preview.url}</span>
                    </dd>
                  </div>
                  <div className="fact">
                    <dt>Invitation for</dt>
                    <dd>{props.preview.custodianName}</dd>
                  </div>
                  <div className="fact">
                    <dt>Server certificate</dt>
                    <dd>
                      <span className="mono fingerprint">
                        {groupFingerprint(props.preview.tlsFingerprint)}
                      </span>
                    </dd>
                  </div>
                </dl>
                <FingerprintCompare
                  actual={props.preview.tlsFingerprint}
                  value={pasted}
                  onChange={setPasted}
                />
                <h2 className="subhead">Trust anchors</h2>
                <p className="hint">
                  Device certificates of target HSMs and of your card must chain to one of these
                  roots.
                </p>
                <ul className="anchors" aria-label="Trust anchors">
                  {props.preview.anchors.map((a) => (
                    <li key={a.fingerprint} className={a.test ? 'anchor anchor-test' : 'anchor'}>
                      <span className="anchor-name">{a.name}</span>
                      {a.test ? (
                        <Badge tone="danger">Test root — not for production</Badge>
                      ) : (
                        <Badge tone="good">Production root</Badge>
                      )}
                      <span className="mono fingerprint">{groupFingerprint(a.fingerprint)}</span>
                    </li>
                  ))}
                </ul>
                {hasTest ? (
                  <div className="notice notice-danger" role="alert">
                    {configuredTest ? (
                      <>
                        <p className="notice-title">A test root is configured on this computer</p>
                        <p>
                          Devices chained to a test root are not genuine SmartCard-HSMs. The app
                          flags their ceremonies TEST and asks you to confirm each time before you
                          approve. Continue only if this is a test installation.
                        </p>
                      </>
                    ) : (
                      <>
                        <p className="notice-title">This server trusts a test root</p>
                        <p>
                          Devices chained to a test root are not genuine SmartCard-HSMs. Continue
                          only if this is a test installation.
                        </p>
                      </>
                    )}
                  </div>
                ) : null}
                <div className="setting">
                  <input
                    id="first-run-start-at-login"
                    type="checkbox"
                    checked={startAtLogin}
                    onChange={(e) => setStartAtLogin(e.target.checked)}
                  />
                  <label htmlFor="first-run-start-at-login">
                    Start Custodian when I log in, so requests reach me even when I forget to open
                    it (you can change this in Settings)
                  </label>
                </div>
                {props.error === null ? null : <ErrorNotice error={props.error} />}
                <div className="actions">
                  <button
                    className="button"
                    type="button"
                    onClick={props.onBack}
                    disabled={props.busy}
                  >
                    Back
                  </button>
                  <button
                    className="button button-primary"
                    type="submit"
                    disabled={props.busy || mismatch}
                  >
                    {props.busy ? 'Connecting…' : 'Connect to this server'}
                  </button>
                </div>
              </>
            )}
          </form>
        )}
      </div>
    </main>
  );
}

/** Normalizes a pasted fingerprint: hex digits only, upper case (spaces, colons dropped). */
export function normalizeFingerprint(text: string): string {
  return text.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

/** Compares a pasted fingerprint with the server's: empty, match or mismatch. */
export function compareFingerprint(pasted: string, actual: string): 'empty' | 'match' | 'mismatch' {
  const p = normalizeFingerprint(pasted);
  if (p === '') return 'empty';
  return p === actual.toUpperCase() ? 'match' : 'mismatch';
}

/** Paste the fingerprint from the invitation letter; the app compares, not the eye. */
function FingerprintCompare(props: {
  actual: string;
  value: string;
  onChange: (v: string) => void;
}) {
  const result = compareFingerprint(props.value, props.actual);
  return (
    <div className="fingerprint-compare">
      <label htmlFor="pasted-fingerprint">Fingerprint from your invitation letter</label>
      <input
        id="pasted-fingerprint"
        autoComplete="off"
        spellCheck={false}
        className="mono"
        placeholder="Paste it here to compare"
        value={props.value}
        aria-describedby="fingerprint-result"
        onChange={(e) => props.onChange(e.target.value)}
      />
      <p id="fingerprint-result" className={`compare compare-${result}`} role="status">
        {result === 'empty'
          ? 'Not compared yet: paste the fingerprint from your invitation letter.'
          : result === 'match'
            ? '✓ Matches: this is the server your invitation names.'
            : '✗ Does not match. Do not connect: someone may be between you and the server. Tell your security officer.'}
      </p>
    </div>
  );
}
