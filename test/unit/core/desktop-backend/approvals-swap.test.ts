/**
 * Issue 7 item 3 at the desktop backend and IPC: the approval request names the offer the
 * detail view showed (offer id + display digest). A request without them is invalid at the IPC
 * boundary; a request for an offer the server replaced is refused before the card, and if the
 * swap lands after the backend's check the engine's own refusal reaches the renderer.
 */
import { describe, expect, it } from 'vitest';
import { createApprovals } from '../../../../core/desktop-backend/approvals';
import { CeremonyBook } from '../../../../core/desktop-backend/ceremony-book';
import type { CustodianEngine } from '../../../../core/custodian/engine';
import { displayDigestOf } from '../../../../core/custodian/offer-view';
import type { OfferRef, OfferView } from '../../../../core/custodian/engine-types';
import { verifyOffer } from '../../../../core/custodian/offer-verify';
import { INVOKE_CONTRACT } from '../../../../shared/ipc/contract';
import { unwrap } from '../../../../shared/result';
import { anchorOf, makeOffer, targetDevice } from '../../../integration/custodian/harness';

const KEY = { keyId: 1, chr: 'UTCUSTOD00001' };

function viewOf(serial: number, ceremonyId?: string): OfferView {
  const offer = makeOffer(targetDevice(serial), KEY, ceremonyId ? { ceremonyId } : {});
  const verified = unwrap(
    verifyOffer(offer, { anchors: [anchorOf()], ownKey: KEY, now: new Date() }),
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

/** An engine whose pending offer is `current()`; records what approve was asked for. */
function fakeEngine(current: () => OfferView) {
  const asked: OfferRef[] = [];
  const engine = {
    offers: () => [current()],
    on: () => () => undefined,
    approve: async (ref: OfferRef) => {
      asked.push(ref);
      const now = current();
      if (ref.offerId !== now.offerId || ref.displayDigest !== now.displayDigest)
        return { kind: 'offer-changed' as const, message: 'replaced', current: now };
      return { kind: 'pin-cancelled' as const, message: 'stop here' };
    },
  } as unknown as CustodianEngine;
  return { engine, asked };
}

function service(book: CeremonyBook, engine: CustodianEngine) {
  return createApprovals({
    book,
    engineOf: () => engine,
    serial: (fn) => fn(),
    openCard: () => () => Promise.reject(new Error('no card in this test')),
    timeoutMs: 50,
  });
}

describe('7.3 the desktop approval names the offer shown', () => {
  it('7.3 the IPC request without the offer id and digest is invalid; a malformed digest too', () => {
    const req = INVOKE_CONTRACT.approveCeremony.request;
    expect(req.safeParse({ ceremonyId: 'c', reader: 'r' }).success).toBe(false);
    expect(req.safeParse({ ceremonyId: 'c', offerId: 'o', reader: 'r' }).success).toBe(false);
    const digest = 'ab'.repeat(32);
    expect(
      req.safeParse({ ceremonyId: 'c', offerId: 'o', offerDigest: digest, reader: 'r' }).success,
    ).toBe(true);
    for (const bad of ['AB'.repeat(32), 'ab'.repeat(31), `${'ab'.repeat(32)}0`, 'zz'.repeat(32)])
      expect(
        req.safeParse({ ceremonyId: 'c', offerId: 'o', offerDigest: bad, reader: 'r' }).success,
      ).toBe(false);
  });

  it('7.3 the detail names its offer, and a replaced offer is refused before the card', async () => {
    const shown = viewOf(202);
    const book = new CeremonyBook();
    book.offer('s1', shown);
    const detail = book.detail(shown.ceremonyId)!;
    expect(detail.offerId).toBe(shown.offerId);
    expect(detail.offerDigest).toBe(shown.displayDigest);
    const swapped = viewOf(203, shown.ceremonyId);
    book.offer('s1', swapped);
    const { engine, asked } = fakeEngine(() => swapped);
    const request = {
      ceremonyId: shown.ceremonyId,
      offerId: detail.offerId,
      offerDigest: detail.offerDigest,
      reader: 'R',
      acknowledgeTestAnchor: shown.verified.anchor.chr,
    };
    const r = await service(book, engine).approve(request, () => undefined);
    expect(r).toMatchObject({ ok: false, error: { code: 'offer-changed' } });
    expect(asked).toEqual([]);
    // Same offer id, digest of another display: refused as well.
    book.offer('s1', shown);
    const forged = await service(book, engine).approve(
      { ...request, offerDigest: swapped.displayDigest },
      () => undefined,
    );
    expect(forged).toMatchObject({ ok: false, error: { code: 'offer-changed' } });
    expect(asked).toEqual([]);
  });

  it('7.3 a swap after the backend check is refused by the engine and reported as offer-changed', async () => {
    const shown = viewOf(202);
    const swapped = viewOf(203, shown.ceremonyId);
    const book = new CeremonyBook();
    book.offer('s1', shown); // the book has not seen the swap yet
    const { engine, asked } = fakeEngine(() => swapped);
    const r = await service(book, engine).approve(
      {
        ceremonyId: shown.ceremonyId,
        offerId: shown.offerId,
        offerDigest: shown.displayDigest,
        reader: 'R',
        acknowledgeTestAnchor: shown.verified.anchor.chr,
      },
      () => undefined,
    );
    expect(asked).toEqual([
      { ceremonyId: shown.ceremonyId, offerId: shown.offerId, displayDigest: shown.displayDigest },
    ]);
    expect(r).toMatchObject({ ok: false, error: { code: 'offer-changed' } });
  });
});
