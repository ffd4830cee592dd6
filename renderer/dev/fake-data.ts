/**
 * Sample data for the fake bridge: one management server, two readers, a genuine custodian
 * card and ceremonies in every state. Fictional names; device ids in the SmartCard-HSM CHR
 * style (docs/card-reference.md §5.1).
 * @module
 */
import type {
  CardView,
  CeremonyDetail,
  ReaderView,
  ServerPreview,
  TrustAnchor,
} from '../../shared/ipc/model';
import type { SecurityAlert } from '../../shared/ipc/trust-model';

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
  // Alice approved the rack B HSM before (the timestamping backup); never the vault HSM.
  const rackB = { approvedBefore: true, times: 4, lastApprovedAt: iso(-26 * 60 + 14) };
  const vault = { approvedBefore: false, times: 0 };
  // Each ceremony shows one offer: its id and display digest are what an approval names.
  const shown = (c: Omit<CeremonyDetail, 'offerId' | 'offerDigest'>): CeremonyDetail => ({
    ...c,
    offerId: `o-${c.id.slice(2)}`,
    offerDigest: c.id.slice(2).repeat(11).slice(0, 64),
  });
  const list: Omit<CeremonyDetail, 'offerId' | 'offerDigest'>[] = [
    {
      ...base,
      id: 'c-7f3a91',
      purpose: 'Sign the quarterly CRL of Acme Issuing CA 2',
      requester: 'Bob Keller (PKI operations)',
      targetDeviceId: 'DECC0101782',
      targetLabel: 'Issuing CA HSM, rack B',
      targetHistory: rackB,
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
      targetHistory: vault,
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
      targetHistory: { ...rackB, times: 3 },
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
      targetHistory: vault,
      approvals: 1,
      status: 'expired',
      createdAt: iso(-3 * 24 * 60),
      expiresAt: iso(-3 * 24 * 60 + 60),
      custodians: people(['David Osei']),
    },
  ];
  return list.map(shown);
}

/**
 * The 'suspicious' scenario's alerts: the server offered a script that would have used another
 * key (refused by the firewall dry run; the ceremony is still open here), and earlier an offer
 * whose target chained to an unknown root (already declined).
 */
export function sampleAlerts(now: number): SecurityAlert[] {
  const iso = (offsetMin: number) => new Date(now + offsetMin * MIN).toISOString();
  return [
    {
      id: 'a-2',
      kind: 'offer-refused',
      serverId: 'srv-acme',
      serverName: 'Acme PKI Operations',
      at: iso(-2),
      code: 'script-refused',
      title: 'Refused: the server asked your card for more than one approval',
      reason:
        'The commands it sent for your card included operations that are never allowed (they were blocked before reaching the card).',
      detail: 'step 2: SIGN with key 2, which is not the approved key',
      ceremonyId: 'c-7f3a91',
      offerId: 'o-7f3a91-2',
      stated: {
        purpose: 'Sign the quarterly CRL of Acme Issuing CA 2',
        requester: 'Bob Keller (PKI operations)',
        targetLabel: 'Issuing CA HSM, rack B',
        targetDeviceId: 'DECC0101782',
      },
      ceremonyOpen: true,
      reported: false,
    },
    {
      id: 'a-1',
      kind: 'offer-refused',
      serverId: 'srv-acme',
      serverName: 'Acme PKI Operations',
      at: iso(-95),
      code: 'untrusted-anchor',
      title: 'Refused: the target chains to an unknown root',
      reason: "The target's certificate chain ends in a root this app does not trust.",
      detail: 'chain ends in DEXXCA0000001',
      ceremonyId: 'c-44e0b3',
      offerId: 'o-44e0b3-1',
      stated: {
        purpose: 'Emergency key export for the payments HSM',
        requester: 'IT helpdesk',
        targetLabel: 'Payments HSM',
        targetDeviceId: 'DEXX0000666',
      },
      ceremonyOpen: false,
      reported: false,
    },
  ];
}
