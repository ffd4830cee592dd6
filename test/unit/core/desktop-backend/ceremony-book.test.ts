import { describe, expect, it } from 'vitest';
import {
  CeremonyBook,
  statusOfPhase,
  statusOfRemoval,
  targetChainOf,
} from '../../../../core/desktop-backend/ceremony-book';
import type { OfferView } from '../../../../core/custodian/engine-types';
import type { OfferMessage } from '../../../../shared/protocol/index';
import { verifyOffer } from '../../../../core/custodian/offer-verify';
import { productionAnchor } from '../../../../shared/cvc/chain';
import { ceremonyDetailSchema, ceremonySummarySchema } from '../../../../shared/ipc/model';
import { unwrap } from '../../../../shared/result';
import { anchorOf, makeOffer, targetDevice } from '../../../integration/custodian/harness';
import { displayDigestOf } from '../../../../core/custodian/offer-view';

const KEY = { keyId: 1, chr: 'UTCUSTOD00001' };
const target = targetDevice(777);

function view(
  anchorBuiltIn: boolean,
  over: Partial<OfferView> = {},
  offerOver: Partial<OfferMessage> = {},
): OfferView {
  const anchor = anchorOf();
  const offer = makeOffer(target, KEY, { quorum: { n: 2, m: 3 }, ...offerOver });
  const verified = unwrap(
    verifyOffer(offer, {
      anchors: [productionAnchor(), anchorBuiltIn ? { ...anchor, source: 'built-in' } : anchor],
      ownKey: KEY,
      now: new Date(),
    }),
  );
  return {
    ceremonyId: offer.ceremonyId,
    offerId: offer.offerId,
    phase: 'pending',
    progress: offer.progress,
    verified,
    displayDigest: displayDigestOf(verified),
    ...over,
  };
}

describe('ceremonies as the app lists them', () => {
  it('maps engine phases and removal reasons to the UI status', () => {
    expect(statusOfPhase('pending')).toBe('waiting');
    expect(statusOfPhase('approving')).toBe('waiting');
    expect(statusOfPhase('rejected')).toBe('failed');
    expect(statusOfRemoval('quorum')).toBe('quorum');
    expect(statusOfRemoval('completed')).toBe('quorum');
    expect(statusOfRemoval('cancelled')).toBe('cancelled');
    expect(statusOfRemoval('expired')).toBe('expired');
    expect(statusOfRemoval('chain-invalid')).toBe('failed');
    expect(statusOfRemoval('replaced by a newer offer')).toBeUndefined();
  });

  it('a target chaining to a root not built in is a TEST device, with the reason', () => {
    const test = targetChainOf(view(false));
    expect(test.status).toBe('test');
    expect(test.detail).toContain('test root');
    expect(targetChainOf(view(true)).status).toBe('genuine');
  });

  it('summary and detail pass the IPC schemas and show k of n, device id and expiry', () => {
    const book = new CeremonyBook(() => new Date('2026-01-01T00:00:00Z'));
    const v = view(true);
    book.offer('srv', v);
    const s = book.summary(v.ceremonyId)!;
    expect(ceremonySummarySchema.parse(s)).toMatchObject({
      status: 'waiting',
      required: 2,
      total: 3,
      approvals: 0,
      targetDeviceId: new TextDecoder().decode(target.chr),
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const d = ceremonyDetailSchema.parse(book.detail(v.ceremonyId));
    expect(d.custodians.map((c) => c.state)).toEqual(['pending', 'pending', 'pending']);
    expect(new Set(d.custodians.map((c) => c.name)).size).toBe(3); // the list is keyed by name
    expect(d.keyChr).toBe(KEY.chr);
    expect(s.targetChain).toEqual(d.targetChain);
  });

  it('the list summary flags a TEST target (chain to a configured root) before it is opened', () => {
    const book = new CeremonyBook();
    const v = view(false);
    book.offer('srv', v);
    const s = ceremonySummarySchema.parse(book.summary(v.ceremonyId));
    expect(s.targetChain).toMatchObject({ status: 'test', anchor: v.verified.anchor.chr });
    expect(book.summaries()[0]?.targetChain?.status).toBe('test');
  });

  it('marks our own answer, learns our name from our result, keeps ended ceremonies', () => {
    const book = new CeremonyBook();
    const v = view(true);
    book.offer('srv', v);
    book.offer('srv', { ...v, phase: 'approved' });
    let d = book.detail(v.ceremonyId)!;
    expect(d.custodians[0]).toMatchObject({ name: 'You', state: 'approved', me: true });
    book.ownResult(v.ceremonyId, v.offerId, { authenticated: 1, approvedBy: ['Alice'] }, true);
    d = book.detail(v.ceremonyId)!;
    expect(d.custodians[0]).toMatchObject({ name: 'Alice', me: true });
    expect(d.approvals).toBe(1);
    expect(book.progress(v.ceremonyId, { authenticated: 2, approvedBy: ['Alice', 'Bob'] })).toBe(
      true,
    );
    expect(book.removed(v.ceremonyId, 'quorum')).toBe(true);
    d = book.detail(v.ceremonyId)!;
    expect(d.status).toBe('quorum');
    expect(d.custodians.map((c) => [c.name, c.me])).toEqual([
      ['Alice', true],
      ['Bob', false],
      ['Custodian not named by the server (1)', false],
    ]);
    // Another offer id's result does not rename us.
    expect(
      book.ownResult(v.ceremonyId, 'other', { authenticated: 2, approvedBy: ['X'] }, true),
    ).toBe(false);
    expect(book.removed('unknown', 'quorum')).toBe(false);
  });

  it('lists every custodian the offer names, marks "(you)" and never "not named"', () => {
    const custodians = [
      { name: 'Bob Müller', you: false },
      { name: 'Alice Martin', you: true },
      { name: 'Chen Wei', you: false },
    ];
    const book = new CeremonyBook();
    const v = view(true, {}, { custodians });
    book.offer('srv', v);
    book.progress(v.ceremonyId, { authenticated: 1, approvedBy: ['Bob Müller'] });
    let d = ceremonyDetailSchema.parse(book.detail(v.ceremonyId));
    expect(d.custodians.map((c) => [c.name, c.state, c.me])).toEqual([
      ['Bob Müller', 'approved', false],
      ['Alice Martin', 'pending', true],
      ['Chen Wei', 'pending', false],
    ]);
    // Our own answer is known here before the server lists it.
    book.offer('srv', { ...v, phase: 'declined' });
    d = book.detail(v.ceremonyId)!;
    expect(d.custodians[1]).toMatchObject({ name: 'Alice Martin', state: 'declined', me: true });
    // An approver the list does not name is still shown.
    book.progress(v.ceremonyId, { authenticated: 2, approvedBy: ['Bob Müller', 'Dana New'] });
    d = book.detail(v.ceremonyId)!;
    expect(d.custodians.map((c) => c.name)).toEqual([
      'Bob Müller',
      'Alice Martin',
      'Chen Wei',
      'Dana New',
    ]);
    expect(d.custodians.some((c) => /not named/.test(c.name))).toBe(false);
    expect(d.custodians.filter((c) => c.me)).toHaveLength(1);
  });

  it('"Requested at" is the server time, never later than the app first saw it', () => {
    const seen = new Date(Math.floor(Date.now() / 1000) * 1000);
    const at = (minutes: number) => new Date(seen.getTime() + minutes * 60_000).toISOString();
    const book = new CeremonyBook(() => seen);
    const expiresAt = at(8);
    const early = view(true, {}, { requestedAt: at(-2), expiresAt });
    book.offer('srv', early);
    expect(book.summary(early.ceremonyId)).toMatchObject({
      createdAt: at(-2),
      createdAtSource: 'server',
    });
    // The server's clock runs 3 minutes ahead of ours: not "requested in the future".
    const ahead = view(true, {}, { requestedAt: at(3), expiresAt });
    book.offer('srv', ahead);
    expect(book.summary(ahead.ceremonyId)).toMatchObject({
      createdAt: seen.toISOString(),
      createdAtSource: 'server',
    });
    // An older server that does not say: the time this app first saw it, labelled so.
    const bare = view(true, {}, { expiresAt });
    book.offer('srv', bare);
    const s = ceremonySummarySchema.parse(book.summary(bare.ceremonyId));
    expect(s).toMatchObject({ createdAt: seen.toISOString(), createdAtSource: 'seen' });
  });

  it('keeps at most 200 ended ceremonies, never dropping waiting ones', () => {
    const book = new CeremonyBook();
    const waiting = view(true);
    book.offer('srv', waiting);
    const base = view(true);
    for (let i = 0; i < 205; i++) {
      const ceremonyId = `cer-many-${i}`;
      const offer = { ...base.verified.offer, ceremonyId };
      const v = { ...base, ceremonyId, verified: { ...base.verified, offer } };
      book.offer('srv', v);
      book.removed(v.ceremonyId, 'expired');
    }
    const all = book.summaries();
    expect(all.filter((s) => s.status !== 'waiting')).toHaveLength(200);
    expect(all.some((s) => s.id === waiting.ceremonyId)).toBe(true);
    book.dropServer('srv');
    expect(book.summaries()).toEqual([]);
  });
});
