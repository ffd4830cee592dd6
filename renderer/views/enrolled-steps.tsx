/**
 * The end of first run: what enrolling did, step by step — server ✓ → card ✓ → key registered
 * ✓ → done — and what happens next (issue 9 §5), so the custodian knows the setup is complete
 * and what a request will look like.
 * @module
 */
import type { ServerView } from '../../shared/ipc/model';
import { groupFingerprint } from '../format';

/** The fingerprint shown for a plain loopback server without a certificate. */
const NO_TLS_FINGERPRINT_HEX = '0'.repeat(64);

/** The enrollment sequence after the server was added. */
export function EnrolledSteps(props: { server: ServerView; onFinish: () => void }) {
  const s = props.server;
  const pinned = s.tlsFingerprint !== NO_TLS_FINGERPRINT_HEX;
  return (
    <div className="enrolled">
      <h2 className="subhead">You are set up</h2>
      <ol className="steps" aria-label="Setup steps">
        <li className="step step-done">
          <span className="step-mark" aria-hidden="true">
            ✓
          </span>
          <div>
            <p className="step-title">Server connected: {s.name}</p>
            <p className="hint">
              <span className="mono">{s.url}</span>
              {pinned ? (
                <>
                  {' '}
                  · certificate pinned{' '}
                  <span className="mono">{groupFingerprint(s.tlsFingerprint).slice(0, 23)}…</span>
                </>
              ) : null}
            </p>
          </div>
        </li>
        <li className="step step-done">
          <span className="step-mark" aria-hidden="true">
            ✓
          </span>
          <div>
            <p className="step-title">Card found</p>
            <p className="hint">{s.reader ?? 'Your SmartCard-HSM'}</p>
          </div>
        </li>
        <li className="step step-done">
          <span className="step-mark" aria-hidden="true">
            ✓
          </span>
          <div>
            <p className="step-title">Key registered</p>
            <p className="hint">
              {s.keyChr === undefined ? (
                'Your custodian key is registered with the server.'
              ) : (
                <>
                  Your custodian key <span className="mono">{s.keyChr}</span> is registered with the
                  server.
                </>
              )}
            </p>
          </div>
        </li>
        <li className="step step-done">
          <span className="step-mark" aria-hidden="true">
            ✓
          </span>
          <div>
            <p className="step-title">Done</p>
          </div>
        </li>
      </ol>
      <h3 className="subhead">What happens next</h3>
      <p>
        When someone asks to unlock a target HSM, Custodian notifies you and lists the request under
        Ceremonies. You check what would be unlocked, then approve with your card and PIN, or
        decline. Keep your card with you; nothing is signed without your PIN.
      </p>
      <div className="actions">
        <button type="button" className="button button-primary" onClick={props.onFinish}>
          Continue
        </button>
      </div>
    </div>
  );
}
