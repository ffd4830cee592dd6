/**
 * Sample APDU trace and audit lines for the fake bridge (split from fake-data.ts by concern).
 * @module
 */
import type { AuditEntryView, TraceEntry } from '../../shared/ipc/model';

const MIN = 60_000;

/** Trace lines of an earlier approval. */
export function sampleTrace(now: number): TraceEntry[] {
  const t = (s: number) => new Date(now - 26 * 60 * MIN + s * 1000).toISOString();
  return [
    line(
      1,
      t(0),
      'forwarded',
      '00A4040C0BE82B0601040181C31F0201',
      '9000',
      'select',
      'Select the SmartCard-HSM applet',
    ),
    line(2, t(1), 'forwarded', '0020008100', '63C3', 'verify-status', 'PIN status query, no data'),
    line(
      3,
      t(2),
      'forwarded',
      '00B12F0200',
      '7F21…9000',
      'read-public-object',
      'Read the device certificate (public)',
    ),
    line(
      4,
      t(3),
      'blocked',
      '80500000',
      undefined,
      'initialize',
      'INITIALIZE DEVICE would wipe the card',
    ),
    line(
      5,
      t(4),
      'forwarded',
      '806801731A',
      '3044…9000',
      'sign-pka-input',
      'Sign CHR(target) ‖ challenge with the approved key',
    ),
  ].map((e) => ({ ...e, ceremonyId: 'c-11aa40' }));
}

function line(
  seq: number,
  time: string,
  decision: 'forwarded' | 'blocked',
  command: string,
  response: string | undefined,
  rule: string,
  reason: string,
): TraceEntry {
  const header = command.slice(0, 8).replace(/(..)(?!$)/g, '$1 ');
  const sw = decision === 'blocked' ? 0x6986 : parseInt((response ?? '9000').slice(-4), 16);
  // `response` in the samples is data ‖ SW for readability; the trace carries data only.
  const data = response?.replace(/[^0-9A-F]/g, '').slice(0, -4);
  const hexResponse = data === undefined || data === '' ? undefined : data;
  return {
    seq,
    time,
    decision,
    header,
    rule,
    reason,
    command,
    sw,
    ...(hexResponse === undefined ? {} : { response: hexResponse }),
    ...(decision === 'forwarded' ? { durationMs: 38 + seq * 7 } : {}),
  };
}

/** Audit lines. */
export function sampleAudit(now: number): AuditEntryView[] {
  const rows: [string, string][] = [
    ['connection', 'Connected to Acme PKI Operations'],
    ['pin-verified', 'PIN verified on the custodian card'],
    ['apdu-forwarded', 'Forwarded 00 A4 04 0C (select applet) → 9000'],
    ['apdu-blocked', 'Blocked 80 50 00 00 (INITIALIZE DEVICE) → 6986'],
    ['approval', 'Approved "Back up the DKEK-wrapped keys" for DECC0101782'],
    ['connection', 'Reconnected after network change'],
  ];
  return rows.map(([kind, summary], i) => ({
    seq: i + 1,
    time: new Date(now - (rows.length - i) * 37 * MIN).toISOString(),
    kind,
    summary,
    hash: fakeHash(i + 1),
  }));
}

/** A stable 64-hex-digit string for sample hashes. */
export function fakeHash(seed: number): string {
  let x = (seed * 2654435761) >>> 0;
  let out = '';
  while (out.length < 64) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += (x >>> 8).toString(16).padStart(6, '0');
  }
  return out.slice(0, 64);
}

/** Trace lines one approval produces (plus a blocked SIGN for the hostile scenario). */
export function approvalTrace(
  ceremonyId: string,
  hostile: boolean,
): Omit<TraceEntry, 'seq' | 'time'>[] {
  const verify = {
    ceremonyId,
    decision: 'forwarded' as const,
    header: '00 20 00 81',
    rule: 'verify-status',
    reason: 'PIN status query, no data',
    command: '0020008100',
    sw: 0x9000,
  };
  const blocked = {
    ceremonyId,
    decision: 'blocked' as const,
    header: '80 68 02 73',
    rule: 'sign-other-key',
    reason: 'SIGN with a key you did not approve',
    command: '8068027318',
    sw: 0x6986,
  };
  const sign = {
    ceremonyId,
    decision: 'forwarded' as const,
    header: '80 68 01 73',
    rule: 'sign-pka-input',
    reason: 'Sign CHR(target) ‖ challenge with the approved key',
    command: '8068017313',
    response: '3044',
    sw: 0x9000,
    durationMs: 212,
  };
  return hostile ? [verify, blocked, sign] : [verify, sign];
}
