/**
 * What the engine does with each server message: offers are classified (new, resend after
 * reconnect, altered replay, reused challenge), verified and tracked; updates, results and
 * errors move the tracked offers along.
 * @module
 */
import {
  PROTOCOL_VERSION,
  type DecisionMessage,
  type OfferMessage,
  type ServerMessage,
} from '../../shared/protocol/index';
import type { DecisionOutbox } from './decision-outbox';
import type { Emit, EngineAudit } from './engine-ports';
import type { OfferBook } from './offer-book';
import type { OfferChecker } from './offer-checker';
import type { OfferRefusals } from './offer-refusals';
import type { OfferTracker } from './offer-tracker';
import { viewOf } from './offer-view';
import { displayText } from './rejections';
import { journaledSigning } from './signing-guard';
import type { SigningJournal } from './signing-journal';

/** Server error codes after which a kept decision need not be resent. */
const SETTLED = new Set(['already-decided', 'unknown-offer', 'offer-expired', 'unknown-ceremony']);

/**
 * The engine's offer-handling parts, shared by the inbox and the approvals. Each part keeps
 * its own state private; this is only the list of collaborators, never written to.
 */
export type OfferParts = {
  readonly book: OfferBook;
  readonly tracker: OfferTracker;
  readonly checker: OfferChecker;
  readonly refusals: OfferRefusals;
  readonly outbox: DecisionOutbox;
  readonly journal: SigningJournal;
  readonly audit: EngineAudit;
  readonly emit: Emit;
};

const ids = (o: OfferMessage) => ({ ceremonyId: o.ceremonyId, offerId: o.offerId });

/** Creates the handler of validated server messages. */
export function createInbox(d: OfferParts): (m: ServerMessage) => void {
  const { book, tracker, refusals } = d;

  /**
   * An offer the journal says went to the card before (a crash between the card and the
   * decision store, issue 11 item 8): its stored signature is resent unchanged; an interrupted
   * one (intent without outcome) or a new offer id for an input already signed is refused,
   * never signed again. Returns true when the offer was handled here.
   */
  const resumeFromJournal = (offer: OfferMessage): boolean => {
    const row = d.journal.byOffer(offer.offerId);
    if (
      row?.state === 'signed' &&
      row.ceremonyId === offer.ceremonyId &&
      row.deviceId === offer.target.deviceId &&
      row.challenge.toLowerCase() === offer.challenge.toLowerCase() &&
      row.results
    ) {
      const frame: DecisionMessage = {
        v: PROTOCOL_VERSION,
        type: 'decision',
        ...ids(offer),
        decision: { kind: 'approve', results: [...row.results] },
      };
      book.remember(offer, undefined);
      book.markSigned(offer);
      d.audit.record('error', { what: 'signature-resent', ...ids(offer) });
      d.outbox.keepAndSend(frame, new Date(row.expiresAt));
      return true;
    }
    const why = journaledSigning(d.journal, offer);
    if (why === undefined) return false;
    book.remember(offer, undefined);
    book.markSigned(offer);
    refusals.refuse(offer, { code: 'replayed', message: why }, true);
    return true;
  };

  /** Refuses without keeping the offer (it is only remembered as seen). */
  const refuse = (
    offer: OfferMessage,
    code: 'replayed' | 'busy',
    message: string,
    answer = true,
  ) => {
    book.remember(offer, undefined);
    refusals.refuse(offer, { code, message }, answer);
  };

  const onOffer = (offer: OfferMessage): void => {
    const sighting = book.sight(offer);
    const stored = sighting.kind === 'new' ? d.outbox.kept(offer.offerId) : undefined;
    if (stored && stored.ceremonyId === offer.ceremonyId) {
      // Decided before a restart (docs/protocol.md §3.4): resend the stored frame unchanged.
      book.remember(offer, undefined);
      d.outbox.resend(stored);
      return;
    }
    if (sighting.kind === 'new' && resumeFromJournal(offer)) return;
    if (sighting.kind === 'resend') {
      // Sent again after a reconnect: nothing new; repeat our decision if we made one.
      const decided = sighting.entry?.decision ?? d.outbox.kept(offer.offerId);
      if (decided) d.outbox.resend(decided);
      return;
    }
    if (sighting.kind === 'altered')
      // Not answered: the original offer id may already carry our decision.
      return refuse(
        offer,
        'replayed',
        `offer ${offer.offerId} was sent before with different content`,
        false,
      );
    if (sighting.kind === 'input-reused')
      return refuse(
        offer,
        'replayed',
        `the challenge for ${offer.target.deviceId} was already signed (replay)`,
      );
    if (book.get(offer.ceremonyId)?.phase === 'approving')
      return refuse(offer, 'busy', 'an approval of this ceremony is running', false);
    const tooMany = book.overBound(offer);
    // Bounded before the (costly) check: never kept, never shown, declined (docs/protocol.md §8).
    if (tooMany !== undefined) return refuse(offer, 'busy', tooMany);
    const checked = d.checker.check(offer);
    if (!checked.ok) {
      book.remember(offer, undefined);
      refusals.refuse(offer, checked.error, true);
      return;
    }
    tracker.add(checked.value, checked.value.expiresAt.getTime() - d.checker.now().getTime());
  };

  return (m) => {
    switch (m.type) {
      case 'welcome':
        d.checker.syncClock(m.serverTime);
        if (m.credential !== undefined) {
          d.audit.record('enrollment', { custodianId: m.custodianId });
          d.emit({ type: 'enrolled', custodianId: m.custodianId, credential: m.credential });
        }
        return;
      case 'offer':
        return onOffer(m);
      case 'update': {
        const entry = book.get(m.ceremonyId);
        if (!entry) return;
        entry.progress = m.progress;
        if (m.state !== 'open' && tracker.move(entry, 'end')) {
          entry.decision = undefined;
          book.drop(m.ceremonyId);
          const offerId = entry.verified.offer.offerId;
          d.emit({ type: 'offer-removed', ceremonyId: m.ceremonyId, offerId, reason: m.state });
        } else d.emit({ type: 'offer-updated', offer: viewOf(entry) });
        return;
      }
      case 'result': {
        const entry = book.get(m.ceremonyId);
        if (entry && entry.verified.offer.offerId === m.offerId) {
          entry.decision = undefined; // delivered
          entry.progress = m.progress;
        }
        d.emit({ type: 'result', result: m });
        return;
      }
      case 'error': {
        const entry = m.ceremonyId === undefined ? undefined : book.get(m.ceremonyId);
        if (entry && entry.verified.offer.offerId === m.offerId && SETTLED.has(m.code))
          entry.decision = undefined;
        d.audit.record('error', { what: 'server-error', code: m.code, message: m.message });
        d.emit({
          type: 'server-error',
          code: m.code,
          message: displayText(m.message),
          ...(m.ceremonyId !== undefined ? { ceremonyId: m.ceremonyId } : {}),
          ...(m.offerId !== undefined ? { offerId: m.offerId } : {}),
        });
        return;
      }
      case 'ping':
        return;
    }
  };
}
