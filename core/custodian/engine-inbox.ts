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
import { journaledSigning } from './engine-approve';
import {
  check,
  MAX_CLOCK_OFFSET_MS,
  move,
  rejectOffer,
  trustedNow,
  viewOf,
  type EngineContext,
} from './engine-context';
import type { OfferEntry } from './offer-book';
import { displayText } from './rejections';

/** Server error codes after which a kept decision need not be resent. */
const SETTLED = new Set(['already-decided', 'unknown-offer', 'offer-expired', 'unknown-ceremony']);

/** Handles one validated server message. */
export function handleServerMessage(ctx: EngineContext, m: ServerMessage): void {
  switch (m.type) {
    case 'welcome': {
      const offset = Date.parse(m.serverTime) - ctx.timers.now();
      ctx.clockOffsetMs = Number.isFinite(offset)
        ? Math.max(-MAX_CLOCK_OFFSET_MS, Math.min(MAX_CLOCK_OFFSET_MS, offset))
        : 0;
      if (m.credential !== undefined) {
        ctx.audit('enrollment', { custodianId: m.custodianId });
        ctx.emit({ type: 'enrolled', custodianId: m.custodianId, credential: m.credential });
      }
      return;
    }
    case 'offer':
      return onOffer(ctx, m);
    case 'update': {
      const entry = ctx.book.get(m.ceremonyId);
      if (!entry) return;
      entry.progress = m.progress;
      if (m.state !== 'open' && move(ctx, entry, 'end')) {
        entry.decision = undefined;
        ctx.book.drop(m.ceremonyId);
        const offerId = entry.verified.offer.offerId;
        ctx.emit({ type: 'offer-removed', ceremonyId: m.ceremonyId, offerId, reason: m.state });
      } else ctx.emit({ type: 'offer-updated', offer: viewOf(entry) });
      return;
    }
    case 'result': {
      const entry = ctx.book.get(m.ceremonyId);
      if (entry && entry.verified.offer.offerId === m.offerId) {
        entry.decision = undefined; // delivered
        entry.progress = m.progress;
      }
      ctx.emit({ type: 'result', result: m });
      return;
    }
    case 'error': {
      const entry = m.ceremonyId === undefined ? undefined : ctx.book.get(m.ceremonyId);
      if (entry && entry.verified.offer.offerId === m.offerId && SETTLED.has(m.code)) {
        entry.decision = undefined;
      }
      ctx.audit('error', { what: 'server-error', code: m.code, message: m.message });
      ctx.emit({
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
}

/**
 * An offer the journal says went to the card before (a crash between the card and the decision
 * store, issue 11 item 8): its stored signature is resent unchanged; an interrupted one (intent
 * without outcome) or a new offer id for an input already signed is refused, never signed again.
 * Returns true when the offer was handled here.
 */
function resumeFromJournal(ctx: EngineContext, offer: OfferMessage): boolean {
  const row = ctx.journal.byOffer(offer.offerId);
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
      ceremonyId: offer.ceremonyId,
      offerId: offer.offerId,
      decision: { kind: 'approve', results: [...row.results] },
    };
    ctx.book.remember(offer, undefined);
    ctx.book.markSigned(offer);
    ctx.audit('error', {
      what: 'signature-resent',
      ceremonyId: offer.ceremonyId,
      offerId: offer.offerId,
    });
    try {
      ctx.decisions.put(frame, new Date(row.expiresAt));
    } catch {
      ctx.audit('error', { what: 'decision-store', ...ids(offer) });
    }
    ctx.send(frame);
    return true;
  }
  const why = journaledSigning(ctx, offer);
  if (why === undefined) return false;
  ctx.book.remember(offer, undefined);
  ctx.book.markSigned(offer);
  rejectOffer(ctx, offer, { code: 'replayed', message: why }, true);
  return true;
}

const ids = (o: OfferMessage) => ({ ceremonyId: o.ceremonyId, offerId: o.offerId });

function onOffer(ctx: EngineContext, offer: OfferMessage): void {
  const { book } = ctx;
  const sighting = book.sight(offer);
  const stored = sighting.kind === 'new' ? ctx.decisions.get(offer.offerId) : undefined;
  if (stored && stored.ceremonyId === offer.ceremonyId) {
    // Decided before a restart (docs/protocol.md §3.4): resend the stored frame unchanged.
    book.remember(offer, undefined);
    ctx.send(stored);
    return;
  }
  if (sighting.kind === 'new' && resumeFromJournal(ctx, offer)) return;
  if (sighting.kind === 'resend') {
    // Sent again after a reconnect: nothing new; repeat our decision if we made one.
    const decided = sighting.entry?.decision ?? ctx.decisions.get(offer.offerId);
    if (decided) ctx.send(decided);
    return;
  }
  if (sighting.kind === 'altered' || sighting.kind === 'input-reused') {
    const message =
      sighting.kind === 'altered'
        ? `offer ${offer.offerId} was sent before with different content`
        : `the challenge for ${offer.target.deviceId} was already signed (replay)`;
    book.remember(offer, undefined);
    // An altered resend is not answered: the original offer id may already carry our decision.
    rejectOffer(ctx, offer, { code: 'replayed', message }, sighting.kind === 'input-reused');
    return;
  }
  const current = book.get(offer.ceremonyId);
  if (current && current.phase === 'approving') {
    book.remember(offer, undefined);
    rejectOffer(
      ctx,
      offer,
      { code: 'busy', message: 'an approval of this ceremony is running' },
      false,
    );
    return;
  }
  const tooMany = book.overBound(offer);
  if (tooMany !== undefined) {
    // Bounded before the (costly) check: never kept, never shown, declined (docs/protocol.md §8).
    book.remember(offer, undefined);
    rejectOffer(ctx, offer, { code: 'busy', message: tooMany }, true);
    return;
  }
  const checked = check(ctx, offer);
  if (!checked.ok) {
    book.remember(offer, undefined);
    rejectOffer(ctx, offer, checked.error, true);
    return;
  }
  if (current && current.phase === 'pending' && move(ctx, current, 'end')) {
    const offerId = current.verified.offer.offerId;
    ctx.emit({
      type: 'offer-removed',
      ceremonyId: offer.ceremonyId,
      offerId,
      reason: 'replaced by a newer offer',
    });
  }
  const entry: OfferEntry = { phase: 'pending', progress: offer.progress, verified: checked.value };
  const delay = Math.max(0, checked.value.expiresAt.getTime() - trustedNow(ctx).getTime());
  entry.expiry = ctx.timers.setTimeout(() => {
    if (move(ctx, entry, 'expire')) {
      ctx.emit({
        type: 'offer-removed',
        ceremonyId: offer.ceremonyId,
        offerId: offer.offerId,
        reason: 'expired',
      });
    }
  }, delay);
  book.remember(offer, entry);
  ctx.emit({ type: 'offer-added', offer: viewOf(entry) });
}
