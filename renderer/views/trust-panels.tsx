/**
 * What the custodian can trust at a glance, shared by the detail view and the PIN dialog:
 * "Checked by this app" (target device id, its chain to which root, whether this custodian
 * approved this device before, that the signature is bound to this device) apart from "Stated by
 * the requester (not verified)" (label, purpose, requester, times). Server text is only ever
 * shown under the second heading.
 * @module
 */
import type { CeremonySummary, ChainStatus } from '../../shared/ipc/model';
import type { TargetHistory } from '../../shared/ipc/trust-model';
import { Badge, Countdown, Fact, Panel } from '../components/common';
import { chainText, formatTime } from '../format';

/** The history line in words, with whether it is a first-time warning. */
export function historyText(
  history: TargetHistory | undefined,
  deviceId: string,
): { text: string; firstTime: boolean } {
  if (history === undefined)
    return { text: 'This app cannot tell whether you approved it before.', firstTime: false };
  if (!history.approvedBefore)
    return { text: `You have never approved ${deviceId} before.`, firstTime: true };
  const times = history.times === 1 ? 'once' : `${history.times} times`;
  const last =
    history.lastApprovedAt === undefined ? '' : `, last on ${formatTime(history.lastApprovedAt)}`;
  return { text: `You approved this device before (${times}${last}).`, firstTime: false };
}

/** The first-time warning (a request names a device this custodian never approved). */
export function FirstTimeNotice(props: { deviceId: string; serverName: string | undefined }) {
  return (
    <div className="notice notice-attention first-time">
      <p className="notice-title">First request for this device</p>
      <p>
        You have never approved <span className="mono">{props.deviceId}</span>
        {props.serverName === undefined ? '' : ` on ${props.serverName}`} before. Before you
        approve, confirm with the requester by phone or in person that this is the HSM they mean.
      </p>
    </div>
  );
}

/** "Checked by this app" for the detail view. */
export function CheckedPanel(props: {
  deviceId: string;
  chain: ChainStatus;
  history: TargetHistory | undefined;
}) {
  const chain = chainText(props.chain);
  const history = historyText(props.history, props.deviceId);
  return (
    <Panel title="Checked by this app">
      <p className="device-id">
        <span className="device-id-label">Target device id</span>
        <span className="mono device-id-value">{props.deviceId}</span>
      </p>
      <dl className="facts">
        <Fact term="Certificate chain">
          <Badge tone={chain.tone}>{chain.text}</Badge>
          {props.chain.detail === undefined ? null : <p className="hint">{props.chain.detail}</p>}
        </Fact>
        <Fact term="Your history">
          <Badge tone={history.firstTime ? 'attention' : 'neutral'}>
            {history.firstTime
              ? 'First time'
              : props.history?.approvedBefore === true
                ? 'Seen before'
                : 'Unknown'}
          </Badge>{' '}
          {history.text}
        </Fact>
        <Fact term="Signature">
          Your card signs this device id together with the target's one-time challenge, so the
          approval cannot unlock any other device.
        </Fact>
      </dl>
    </Panel>
  );
}

/** "Stated by the requester (not verified)" for the detail view. */
export function StatedPanel(props: { ceremony: CeremonySummary; open: boolean }) {
  const c = props.ceremony;
  return (
    <Panel title="Stated by the requester (not verified)">
      <dl className="facts">
        <Fact term="Label">{c.targetLabel}</Fact>
        <Fact term="Purpose">{c.purpose}</Fact>
        <Fact term="Requested by">{c.requester}</Fact>
        {c.createdAtSource === 'seen' ? (
          <Fact term="First seen here">{formatTime(c.createdAt)}</Fact>
        ) : (
          <Fact term="Requested at">{formatTime(c.createdAt)}</Fact>
        )}
        <Fact term="Expires">
          {formatTime(c.expiresAt)}
          {props.open ? (
            <>
              {' '}
              · <Countdown expiresAt={c.expiresAt} />
            </>
          ) : null}
        </Fact>
      </dl>
    </Panel>
  );
}
