/**
 * The approval of one ceremony: re-check the offer, audit the approval (fsync'd before the card
 * is touched), run the card part, then send exactly one decision. Stops that the custodian can
 * fix (wrong PIN, last try not confirmed, PIN entry cancelled, card problems) return the offer
 * to `pending`; nothing is retried on its own.
 * @module
 */
import { createApduFirewall } from '../../shared/policy/firewall';
import type { OfferMessage, ScriptResult } from '../../shared/protocol/index';
import { runCardApproval, type CardOutcome, type PinSource } from './card-session';
import type { OfferEntry } from './offer-book';
import type { JournalRow, JournalState } from './signing-journal';
import type { OfferRef, OfferView } from './engine-types';
import {
  check,
  decide,
  displayDigestOf,
  move,
  phaseOf,
  rejectOffer,
  viewOf,
  type EngineContext,
} from './engine-context';

/**
 * What `approve` ended with: the card outcome, or a refusal before the card was touched.
 * `offer-changed`: the offer named is no longer the ceremony's pending offer (the server
 * replaced or withdrew it); nothing was signed and the current offer must be shown again.
 */
export type ApproveResult =
  | CardOutcome
  | { readonly kind: 'refused'; readonly message: string }
  | {
      readonly kind: 'offer-changed';
      readonly message: string;
      /** The ceremony's pending offer now, if there is one (to be shown before approving). */
      readonly current?: OfferView;
    };

/** Options of an approval. */
export type ApproveOptions = {
  /** The custodian confirmed using the last PIN try. */
  readonly confirmLastTry?: boolean;
};

/** Why `offer` must not be signed because the journal holds a signing of it, if it does. */
export function journaledSigning(ctx: EngineContext, offer: OfferMessage): string | undefined {
  const own = ctx.journal.byOffer(offer.offerId);
  const row =
    own && own.state !== 'aborted'
      ? own
      : ctx.journal.byInput(offer.target.deviceId, offer.challenge);
  if (!row) return undefined;
  return row.offerId === offer.offerId
    ? `offer ${offer.offerId} already went to the card${row.state === 'intent' ? ' (the approval was interrupted)' : ''}; it is never signed twice`
    : `the challenge for ${offer.target.deviceId} already went to the card for offer ${row.offerId} (replay); it is never signed twice`;
}

function journalRow(entry: OfferEntry, state: JournalState, results?: ScriptResult[]): JournalRow {
  const o = entry.verified.offer;
  return {
    offerId: o.offerId,
    ceremonyId: o.ceremonyId,
    deviceId: o.target.deviceId,
    challenge: o.challenge,
    state,
    ...(results ? { results } : {}),
    expiresAt: entry.verified.expiresAt.toISOString(),
  };
}

/**
 * Records the outcome of a card step that got past the intent: the card's results once they
 * are durable in the audit log too, `aborted` when the card gave no signature (transport or
 * card failure: nothing reached the host, a retry cannot yield a second usable signature).
 * When the audit sync failed the intent stays open: never resent, never signed again.
 */
function settleJournal(ctx: EngineContext, entry: OfferEntry, outcome: CardOutcome): void {
  try {
    if (outcome.kind === 'approved') {
      if (ctx.auditSync()) ctx.journal.record(journalRow(entry, 'signed', outcome.results));
    } else ctx.journal.record(journalRow(entry, 'aborted'));
  } catch {
    const { ceremonyId, offerId } = entry.verified.offer;
    ctx.audit('error', { what: 'signing-journal', ceremonyId, offerId });
  }
}

/**
 * Refuses an approval that does not name the ceremony's pending offer exactly as it was shown
 * (offer id and display digest, shared/policy/offer-display-digest.ts). Audited: a swap is
 * either a race the custodian must see or a server trying to get an offer signed unseen.
 */
function changedOffer(ctx: EngineContext, ref: OfferRef): ApproveResult | undefined {
  const entry = ctx.book.get(ref.ceremonyId);
  if (!entry || entry.phase !== 'pending') {
    return { kind: 'refused', message: `no pending offer for ceremony ${ref.ceremonyId}` };
  }
  const pendingId = entry.verified.offer.offerId;
  const sameId = pendingId === ref.offerId;
  if (sameId && displayDigestOf(entry.verified) === ref.displayDigest) return undefined;
  ctx.audit('error', {
    what: 'approval-refused',
    ceremonyId: ref.ceremonyId,
    offerId: ref.offerId,
    reason: sameId ? 'display-digest-mismatch' : 'offer-replaced',
    pendingOfferId: pendingId,
  });
  return {
    kind: 'offer-changed',
    message: sameId
      ? `offer ${ref.offerId} does not match what was shown; nothing was signed — review it again`
      : `the server replaced offer ${ref.offerId} with ${pendingId} for ceremony ${ref.ceremonyId}; nothing was signed — review the new offer before approving`,
    current: viewOf(entry),
  };
}

/** Approves the pending offer named by `ref` (see module doc). Never throws. */
export async function approveCeremony(
  ctx: EngineContext,
  ref: OfferRef,
  pin: PinSource,
  opts: ApproveOptions = {},
): Promise<ApproveResult> {
  const { ceremonyId } = ref;
  const changed = changedOffer(ctx, ref);
  if (changed) return changed;
  const entry = ctx.book.get(ceremonyId)!;
  const offer = entry.verified.offer;
  // Re-check right before the card: anchors, expiry and key may have changed since arrival, and
  // another ceremony may have had the same target and challenge signed meanwhile (replay,
  // docs/protocol.md §3.4). Only the chain's signature math is reused (chain-cache.ts).
  // The signing journal too (issue 11 item 8): never sign an offer, or its signed input, whose
  // signing intent is on disk — the card may already have signed it before a crash.
  const journaled = ctx.book.wasSigned(offer) ? undefined : journaledSigning(ctx, offer);
  const checked =
    ctx.book.wasSigned(offer) || journaled !== undefined
      ? ({
          ok: false,
          error: {
            code: 'replayed',
            message:
              journaled ?? `the challenge for ${offer.target.deviceId} was already signed (replay)`,
          },
        } as const)
      : check(ctx, offer);
  if (!checked.ok) {
    const expired = checked.error.code === 'expired';
    move(ctx, entry, expired ? 'expire' : 'reject');
    rejectOffer(ctx, offer, checked.error, !expired);
    ctx.emit({
      type: 'offer-removed',
      ceremonyId,
      offerId: offer.offerId,
      reason: checked.error.code,
    });
    return { kind: 'refused', message: checked.error.message };
  }
  const v = checked.value;
  const ids = { ceremonyId, offerId: offer.offerId };
  const logged = ctx.audit('approval', {
    ...ids,
    target: v.deviceId,
    anchor: v.anchor.chr,
    purpose: offer.purpose,
    requester: offer.requester,
    keyId: offer.key.keyId,
    keyChr: offer.key.chr,
    challenge: offer.challenge,
  });
  if (!logged)
    return {
      kind: 'refused',
      message: 'the audit log cannot be written; the card was not touched',
    };
  move(ctx, entry, 'approve');
  ctx.emit({ type: 'offer-updated', offer: viewOf(entry) });
  let intent = false;
  let result: ApproveResult | undefined;
  const outcome = await runCardApproval({
    openCard: ctx.options.openCard,
    pin,
    confirmLastTry: opts.confirmLastTry === true,
    keyId: ctx.options.ownKey.keyId,
    keyChr: offer.key.chr,
    script: v.script,
    firewall: createApduFirewall({
      ceremonyId,
      targetDeviceChr: v.deviceIdBytes,
      challenge: v.challenge,
      keyId: ctx.options.ownKey.keyId,
    }),
    audit: (kind, data, opts) => void ctx.audit(kind, data, opts),
    ids,
    // Durable before the SIGN reaches the card (signing-journal.ts).
    beforeScript: () => {
      ctx.journal.record(journalRow(entry, 'intent'));
      intent = true;
    },
    // The decision leaves while the card is still held; the reset comes after it.
    afterCard: (o) => {
      result = afterCard(ctx, entry, o, intent);
    },
  });
  return result ?? outcome;
}

/** What follows the card step, before the card is reset: journal, audit sync, the decision. */
function afterCard(
  ctx: EngineContext,
  entry: OfferEntry,
  outcome: CardOutcome,
  intent: boolean,
): ApproveResult {
  const offer = entry.verified.offer;
  const ids = { ceremonyId: offer.ceremonyId, offerId: offer.offerId };
  if (intent) settleJournal(ctx, entry, outcome);
  // The script's per-command entries were written without fsync; they are made durable here,
  // before any decision can leave. If that fails, nothing is sent: the card's signature is
  // dropped and the approval counts nowhere (fail closed).
  if (!ctx.auditSync() && outcome.kind === 'approved') {
    move(ctx, entry, 'approval-aborted');
    ctx.emit({ type: 'offer-updated', offer: viewOf(entry) });
    return { kind: 'refused', message: 'the audit log cannot be written; no decision was sent' };
  }
  if (outcome.kind === 'approved') {
    ctx.book.markSigned(offer);
    if (move(ctx, entry, 'approval-done'))
      decide(ctx, entry, { kind: 'approve', results: outcome.results });
  } else if (outcome.kind === 'pin-blocked') {
    ctx.audit('decline', { ...ids, reason: 'pin-failed' });
    if (move(ctx, entry, 'decline')) {
      decide(ctx, entry, {
        kind: 'decline',
        reason: 'pin-failed',
        detail: 'the custodian PIN is blocked',
      });
    }
  } else {
    if (outcome.kind === 'card-error')
      ctx.audit('error', { ...ids, what: 'card', message: outcome.message });
    move(ctx, entry, 'approval-aborted');
  }
  const phase = phaseOf(entry);
  if (phase === 'expired' || phase === 'ended') {
    ctx.emit({ type: 'offer-removed', ...ids, reason: phase });
  } else ctx.emit({ type: 'offer-updated', offer: viewOf(entry) });
  return outcome;
}
