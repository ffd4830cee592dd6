import { displayDigestOf } from '../../../../core/custodian/offer-view';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CeremonyBook } from '../../../../core/desktop-backend/ceremony-book';
import { knownDevicesPath, openKnownDevices } from '../../../../core/desktop-backend/known-devices';
import { AlertBook } from '../../../../core/desktop-backend/security-alerts';
import { createTrust } from '../../../../core/desktop-backend/trust';
import type { OfferView } from '../../../../core/custodian/engine-types';
import type { OfferRejection } from '../../../../core/custodian/offer-verify';
import { verifyOffer } from '../../../../core/custodian/offer-verify';
import { productionAnchor } from '../../../../shared/cvc/chain';
import { ceremonySummarySchema } from '../../../../shared/ipc/model';
import type { SecurityAlert } from '../../../../shared/ipc/trust-model';
import { securityAlertSchema } from '../../../../shared/ipc/trust-model';
import { unwrap } from '../../../../shared/result';
import { anchorOf, makeOffer, targetDevice } from '../../../integration/custodian/harness';

const KEY = { keyId: 1, chr: 'UTCUSTOD00001' };
const target = targetDevice(778);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'custodian-trust-'));
  dirs.push(d);
  return d;
};

function view(): OfferView {
  const offer = makeOffer(target, KEY, { quorum: { n: 2, m: 3 } });
  const verified = unwrap(
    verifyOffer(offer, { anchors: [productionAnchor(), anchorOf()], ownKey: KEY, now: new Date() }),
  );
  return {
    ceremonyId: offer.ceremonyId,
    offerId: offer.offerId,
    phase: 'pending',
    progress: offer.progress,
    verified,
    displayDigest: displayDigestOf(verified),
  };
}

const ALL_CODES: OfferRejection['code'][] = [
  'chain-invalid',
  'untrusted-anchor',
  'device-mismatch',
  'expired',
  'expiry-too-far',
  'wrong-key',
  'quorum-met',
  'script-refused',
  'replayed',
  'busy',
  'malformed',
];

describe('remembered target devices', () => {
  it('remembers approvals per server file, not counting the ceremony looked at', () => {
    const home = tempDir();
    const k = openKnownDevices(knownDevicesPath(home));
    expect(k.history('DECC0101782')).toEqual({ approvedBefore: false, times: 0 });
    k.approved('DECC0101782', 'c-1', new Date('2026-11-01T10:00:00Z'));
    k.approved('DECC0101782', 'c-1', new Date('2026-11-01T11:00:00Z')); // same ceremony: once
    expect(k.history('DECC0101782', 'c-1').approvedBefore).toBe(false);
    expect(k.history('DECC0101782', 'c-2')).toEqual({
      approvedBefore: true,
      times: 1,
      lastApprovedAt: '2026-11-01T10:00:00.000Z',
    });
    expect(k.history('DECC0100991').approvedBefore).toBe(false);
    // Survives a restart; another server's file knows nothing of it.
    const again = openKnownDevices(knownDevicesPath(home));
    expect(again.history('DECC0101782').times).toBe(1);
    expect(openKnownDevices(knownDevicesPath(tempDir())).history('DECC0101782').times).toBe(0);
  });

  it('a damaged or hostile file means "never seen", never a crash', () => {
    for (const text of ['{', 'null', '[]', '{"approvals":[{"deviceId":1}]}', '{"approvals":7}']) {
      const home = tempDir();
      writeFileSync(knownDevicesPath(home), text);
      const k = openKnownDevices(knownDevicesPath(home));
      expect(k.history('DECC0101782').approvedBefore, text).toBe(false);
      k.approved('DECC0101782', 'c-9', new Date());
      expect(JSON.parse(readFileSync(knownDevicesPath(home), 'utf8')).approvals).toHaveLength(1);
    }
  });

  it('the book carries the history into summaries that pass the IPC schema', () => {
    const known = openKnownDevices(undefined);
    const book = new CeremonyBook(
      () => new Date(),
      (_s, d, c) => known.history(d, c),
    );
    const v = view();
    book.offer('srv', v);
    expect(book.summary(v.ceremonyId)?.targetHistory?.approvedBefore).toBe(false);
    known.approved(v.verified.deviceId, 'earlier', new Date());
    const s = book.summary(v.ceremonyId)!;
    expect(s.targetHistory?.approvedBefore).toBe(true);
    expect(ceremonySummarySchema.safeParse(s).success).toBe(true);
  });
});

describe('security alerts', () => {
  it('every security refusal is an alert in plain words; races are not', () => {
    const book = new AlertBook(() => new Date('2026-11-27T10:00:00Z'));
    const offer = view().verified.offer;
    const raised = ALL_CODES.map((code) =>
      book.offerRefused('srv', 'Acme PKI', offer, { code, message: `engine said ${code}` }, false),
    );
    const alerts = raised.filter((a): a is SecurityAlert => a !== undefined);
    expect(alerts.map((a) => a.code).sort()).toEqual(
      ALL_CODES.filter((c) => !['expired', 'quorum-met', 'busy'].includes(c)).sort(),
    );
    for (const a of alerts) {
      expect(securityAlertSchema.safeParse(a).success, a.code).toBe(true);
      expect(a.title).toMatch(/^Refused: /);
      expect(`${a.title} ${a.reason}`).not.toMatch(/§|reference/);
      expect(a.stated?.targetDeviceId).toBe(offer.target.deviceId);
    }
    expect(book.list()[0]?.id).toBe(alerts.at(-1)?.id); // newest first
    const s = book.serverSuspicious('srv', 'Acme PKI', '5 refused offers in 60 s');
    expect(securityAlertSchema.safeParse(s).success).toBe(true);
    expect(s.title).toContain('Acme PKI');
  });

  it('"Decline & report" declines the ceremony only while it is open here', () => {
    const ceremonies = new CeremonyBook();
    const v = view();
    ceremonies.offer('srv', v);
    const declined: { ceremonyId: string; reason: string }[] = [];
    const emitted: SecurityAlert[][] = [];
    const trust = createTrust({
      now: () => new Date(),
      homeOf: () => undefined,
      nameOf: () => 'Acme PKI',
      book: () => ceremonies,
      decline: (r) => {
        declined.push(r);
        return {
          ok: true,
          value: {
            ceremonyId: r.ceremonyId,
            outcome: 'declined',
            approvals: 0,
            required: 2,
            blocked: 0,
          },
        };
      },
      emitAlerts: (a) => emitted.push([...a]),
    });
    trust.offerRejected('srv', v.verified.offer, { code: 'script-refused', message: 'step 2' });
    trust.offerRejected('srv', v.verified.offer, { code: 'busy', message: 'running' });
    expect(emitted).toHaveLength(1);
    const alert = trust.list()[0]!;
    expect(alert.ceremonyOpen).toBe(true);
    const r = trust.report(alert.id);
    expect(r.ok && r.value.declined).toBe(true);
    expect(declined).toEqual([
      { ceremonyId: v.ceremonyId, reason: expect.stringContaining('reported') },
    ]);
    expect(trust.list()[0]).toMatchObject({ reported: true, ceremonyOpen: false });
    // Reporting again never declines twice; an unknown alert is an error, not a crash.
    expect(trust.report(alert.id).ok).toBe(true);
    expect(declined).toHaveLength(1);
    expect(trust.report('a-999').ok).toBe(false);
    // A ceremony that ended here loses its "Decline & report".
    trust.offerRejected('srv', v.verified.offer, { code: 'replayed', message: 'again' });
    ceremonies.removed(v.ceremonyId, 'cancelled');
    trust.ceremoniesChanged();
    expect(trust.list()[0]?.ceremonyOpen).toBe(false);
    const closed = trust.report(trust.list()[0]!.id);
    expect(closed.ok && closed.value.declined).toBe(false);
    expect(declined).toHaveLength(1);
  });
});
