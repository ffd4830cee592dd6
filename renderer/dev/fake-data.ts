/**
 * Sample data for the fake bridge: one management server, two readers, a genuine custodian
 * card and ceremonies in every state. Fictional names; device ids in the SmartCard-HSM CHR
 * style (docs/card-reference.md §5.1).
 * @module
 */
import type {
  AuditEntryView,
  CardView,
  CeremonyDetail,
  ReaderView,
  ServerPreview,
  TraceEntry,
  TrustAnchor,
} from '../../shared/ipc/model';

const MIN = 60_000;

/** Production scheme root (CHR of the published SmartCard-HSM root, docs/card-reference.md Appendix A). */
export const PRODUCTION_ANCHOR: TrustAnchor = {
  name: 'DESRCACC100001',
  fingerprint: '6A0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1',
  test: false,
  source: 'built-in',
};

/** A development root a server may announce; flagged as test in the UI. */
export const TEST_ANCHOR: TrustAnchor = {
  name: 'UTSRCACC100001',
  fingerprint: '0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF',
  test: true,
  source: 'server',
};

/**
 * The 'test-root' scenario's ceremonies: the CRL target chains to {@link TEST_ANCHOR} configured
 * on this computer (approvable after the acknowledgement), the sub-CA target to a root this app
 * does not know (never approvable).
 */
export function withTestTargets(list: readonly CeremonyDetail[]): CeremonyDetail[] {
  return list.map((c) =>
    c.id === 'c-7f3a91'
      ? {
          ...c,
          targetChain: {
            status: 'test',
            anchor: TEST_ANCHOR.name,
            detail: `${TEST_ANCHOR.name} is a test root configured on this computer (/home/alice/.config/custodian/test-root.cvc); a genuine device never chains to it`,
          },
        }
      : c.id === 'c-5d2107'
        ? {
            ...c,
            targetChain: {
              status: 'untrusted',
              detail: 'the chain ends in DEXXCA0000001, which this app does not trust',
            },
          }
        : c,
  );
}

/** What the invitation says. */
export function samplePreview(url: string, withTestAnchor: boolean): ServerPreview {
  return {
    url,
    name: 'Acme PKI Operations',
    custodianName: 'Alice Martin',
    tlsFingerprint: 'B1946AC92492D2347C6235B4D2611184B1946AC92492D2347C6235B4D2611184',
    anchors: withTestAnchor ? [PRODUCTION_ANCHOR, TEST_ANCHOR] : [PRODUCTION_ANCHOR],
  };
}

/** The readers. */
export function sampleReaders(pinPadFirst: boolean): ReaderView[] {
  return [
    {
      name: 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00',
      cardPresent: true,
      pinPad: pinPadFirst,
    },
    { name: 'REINER SCT cyberJack RFID komfort 01 00', cardPresent: false, pinPad: true },
  ];
}

/** The custodian card. */
export function sampleCard(reader: ReaderView, retries: number, withKey: boolean): CardView {
  return {
    reader: reader.name,
    deviceId: 'DENK0102365',
    chain: { status: 'genuine', anchor: PRODUCTION_ANCHOR.name },
    pin: retries === 0 ? { state: 'blocked', retries: 0 } : { state: 'not-verified', retries },
    pkaKey: withKey
      ? { keyId: 1, label: 'Custodian key', chr: 'ACMEALICE00001', curve: 'brainpoolP256r1' }
      : null,
    pinPad: reader.pinPad,
  };
}

/** The ceremonies, relative to `now`. */
export function sampleCeremonies(now: number): CeremonyDetail[] {
  const iso = (offsetMin: number) => new Date(now + offsetMin * MIN).toISOString();
  const people = (approved: readonly string[], declined: readonly string[] = []) =>
    ['Alice Martin', 'Carol Nguyen', 'David Osei'].map((name) => ({
      name,
      me: name === 'Alice Martin',
      ...(approved.includes(name)
        ? { state: 'approved' as const, at: iso(-12) }
        : declined.includes(name)
          ? { state: 'declined' as const, at: iso(-30) }
          : { state: 'pending' as const }),
    }));
  const base = {
    serverId: 'srv-acme',
    required: 2,
    total: 3,
    targetChain: { status: 'genuine' as const, anchor: PRODUCTION_ANCHOR.name },
    keyChr: 'ACMEALICE00001',
  };
  return [
    {
      ...base,
      id: 'c-7f3a91',
      purpose: 'Sign the quarterly CRL of Acme Issuing CA 2',
      requester: 'Bob Keller (PKI operations)',
      targetDeviceId: 'DECC0101782',
      targetLabel: 'Issuing CA HSM, rack B',
      approvals: 0,
      status: 'waiting',
      createdAt: iso(-18),
      expiresAt: iso(42),
      custodians: people([]),
    },
    {
      ...base,
      id: 'c-5d2107',
      purpose: 'Issue the TLS sub-CA certificate for the payments platform',
      requester: 'Erin Schulz (security officer)',
      targetDeviceId: 'DECC0100991',
      targetLabel: 'Root CA HSM, vault',
      approvals: 1,
      status: 'waiting',
      createdAt: iso(-50),
      expiresAt: iso(190),
      custodians: people(['Carol Nguyen']),
    },
    {
      ...base,
      id: 'c-11aa40',
      purpose: 'Back up the DKEK-wrapped keys of the timestamping service',
      requester: 'Bob Keller (PKI operations)',
      targetDeviceId: 'DECC0101782',
      targetLabel: 'Issuing CA HSM, rack B',
      approvals: 2,
      status: 'quorum',
      createdAt: iso(-26 * 60),
      expiresAt: iso(-25 * 60),
      custodians: people(['Alice Martin', 'David Osei']),
    },
    {
      ...base,
      id: 'c-09bc12',
      purpose: 'Rotate the OCSP responder key',
      requester: 'Frank Adeyemi (on-call)',
      targetDeviceId: 'DECC0100991',
      targetLabel: 'Root CA HSM, vault',
      approvals: 1,
      status: 'expired',
      createdAt: iso(-3 * 24 * 60),
      expiresAt: iso(-3 * 24 * 60 + 60),
      custodians: people(['David Osei']),
    },
  ];
}

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
      'INITIALIZE DEVICE would wipe the card (docs/card-reference.md §12.2)',
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
    reason: 'SIGN with a key you did not approve (docs/card-reference.md §12.2)',
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
