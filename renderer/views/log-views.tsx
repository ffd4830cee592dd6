/**
 * The audit log (hash-chained, with a verify button) and the APDU trace (every command the
 * server asked the card to run, forwarded or blocked, like a smart-card shell's trace tab).
 * @module
 */
import type { IpcError } from '../../shared/ipc/errors';
import type { AuditEntryView, AuditVerifyView, TraceEntry } from '../../shared/ipc/model';
import { Badge, ErrorNotice } from '../components/common';
import { auditKindText, formatTime, spacedHex, swHex } from '../format';
import { plainReason, ruleName } from '../rule-names';
import { filterTrace, type TraceFilter } from '../stores/log-stores';

/** Audit view props. */
export type AuditViewProps = {
  readonly entries: readonly AuditEntryView[];
  readonly verification: AuditVerifyView | null;
  readonly verifying: boolean;
  readonly error: IpcError | null;
  readonly onVerify: () => void;
};

/** The audit log view. */
export function AuditView(props: AuditViewProps) {
  const v = props.verification;
  return (
    <div className="view">
      <header className="view-header">
        <h1>Audit log</h1>
        <button
          type="button"
          className="button button-primary"
          onClick={props.onVerify}
          disabled={props.verifying}
        >
          {props.verifying ? 'Verifying…' : 'Verify log'}
        </button>
      </header>
      <p className="hint">
        Every approval, PIN check and APDU decision is written to a hash chain on this computer.
        Verifying recomputes the chain: any changed, removed or reordered entry is found.
      </p>
      {props.error === null ? null : <ErrorNotice error={props.error} />}
      {v === null ? null : v.ok ? (
        <p className="notice notice-good" role="status">
          The log is intact: {v.entries} entries, head{' '}
          <span className="mono">{v.head.slice(0, 16)}…</span>
        </p>
      ) : (
        <div className="notice notice-danger" role="alert">
          <p className="notice-title">The log has been tampered with</p>
          <p>
            Entry {v.line}: {v.reason}. Keep the file as evidence and tell your security officer.
          </p>
        </div>
      )}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">What happened</th>
            <th scope="col">Hash</th>
          </tr>
        </thead>
        <tbody>
          {[...props.entries].reverse().map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td className="nowrap">{formatTime(e.time)}</td>
              <td>
                <Badge
                  tone={e.kind === 'apdu-blocked' || e.kind === 'pin-failed' ? 'danger' : 'neutral'}
                >
                  {auditKindText(e.kind)}
                </Badge>
              </td>
              <td>{e.summary}</td>
              <td className="mono">{e.hash.slice(0, 12)}…</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Trace view props. */
export type TraceViewProps = {
  readonly entries: readonly TraceEntry[];
  readonly filter: TraceFilter;
  readonly error: IpcError | null;
  readonly onFilter: (filter: TraceFilter) => void;
  /** Only this ceremony's commands (undefined: all). */
  readonly ceremony?: string | undefined;
  readonly onCeremony?: (ceremonyId: string | undefined) => void;
};

/** The APDU trace view. */
export function TraceView(props: TraceViewProps) {
  const ceremonies = [
    ...new Set(props.entries.flatMap((e) => (e.ceremonyId === undefined ? [] : [e.ceremonyId]))),
  ];
  const shown = filterTrace(props.entries, props.filter)
    .filter((e) => props.ceremony === undefined || e.ceremonyId === props.ceremony)
    .reverse();
  const blocked = props.entries.filter((e) => e.decision === 'blocked').length;
  return (
    <div className="view">
      <header className="view-header">
        <h1>APDU trace</h1>
        <div className="segmented" role="group" aria-label="Show">
          {(['all', 'forwarded', 'blocked'] as const).map((f) => (
            <button
              key={f}
              type="button"
              className={props.filter === f ? 'segment segment-on' : 'segment'}
              aria-pressed={props.filter === f}
              onClick={() => props.onFilter(f)}
            >
              {f === 'all' ? 'All' : f === 'forwarded' ? 'Forwarded' : `Blocked (${blocked})`}
            </button>
          ))}
        </div>
      </header>
      <div className="setting-select trace-ceremony">
        <label htmlFor="trace-ceremony">Ceremony</label>
        <select
          id="trace-ceremony"
          value={props.ceremony ?? ''}
          onChange={(e) => props.onCeremony?.(e.target.value === '' ? undefined : e.target.value)}
        >
          <option value="">All ceremonies</option>
          {ceremonies.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </div>
      <p className="hint">
        Commands the server asked your card to run. Only what the custodian firewall allows reaches
        the card; everything else is blocked and answered with 6986.
      </p>
      {props.error === null ? null : <ErrorNotice error={props.error} />}
      {shown.length === 0 ? (
        <p className="empty">No commands yet.</p>
      ) : (
        <table className="table trace">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Decision</th>
              <th scope="col">Command</th>
              <th scope="col">SW</th>
              <th scope="col">Ceremony</th>
              <th scope="col">Rule</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.seq} className={e.decision === 'blocked' ? 'row-blocked' : undefined}>
                <td className="nowrap">{formatTime(e.time)}</td>
                <td>
                  <Badge tone={e.decision === 'blocked' ? 'danger' : 'good'}>
                    {e.decision === 'blocked' ? 'Blocked' : 'Forwarded'}
                  </Badge>
                </td>
                <td className="mono">
                  <span className="apdu-header">{e.header}</span>
                  <span className="apdu-data">{spacedHex(e.command.slice(8), 12)}</span>
                  {e.response === undefined ? null : (
                    <span className="apdu-response">← {spacedHex(e.response, 8)}</span>
                  )}
                </td>
                <td className="mono">{swHex(e.sw)}</td>
                <td className="mono">{e.ceremonyId ?? '—'}</td>
                <td>
                  <span className="rule">{ruleName(e.rule)}</span>
                  <span className="rule-reason">{plainReason(e.reason)}</span>
                  <span className="rule-id">{e.rule}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
