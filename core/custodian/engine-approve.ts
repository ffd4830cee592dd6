/**
 * The approval of one ceremony, in named steps: refuse an offer other than the one shown,
 * re-check it, audit the intent (fsync'd before the card is touched), run the card part, then —
 * while the card is still held, before its reset — settle the journal and send exactly one
 * decision. Stops that the custodian can fix (wrong PIN, last try not confirmed, PIN entry
 * cancelled, card problems) return the offer to `pending`; nothing is retried on its own.
 * @module
 */
import { createApduFirewall } from '../../shared/policy/firewall';
import type { OfferMessage } from '../../shared/protocol/index';
import { runCardApproval, type CardOpener, type CardOutcome, type PinSource } from './card-session';
import type { OfferParts } from './engine-inbox';
import type { OfferRef, OfferView } from './engine-types';
import type { OfferEntry } from './offer-book';
import type { OfferRejection, OwnKey, VerifiedOffer } from './offer-verify';
import { displayDigestOf, viewOf } from './offer-view';
import { journaledSigning, journalRow, settleJournal } from './signing-guard';

/**
 * What `approve` ended with: the card outcome, or a refusal before the card was touched.
 * `offer-changed`: the offer named is no longer the ceremony's pending offer (the server
 * replaced or withdrew it); nothing was signed and the current offer must be shown again.
 */
export type ApproveResult =
  | CardOutcome
  | {
      readonly kind: 'refused';
      readonly message: string;
      /** Why the re-check before the card refused the offer (it was then dropped), if it did. */
      readonly reason?: OfferRejection['code'];
    }
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
  /**
   * The card this approval uses (the reader the custodian chose for it); default: the engine's
   * `openCard` option. Passed per call so concurrent approvals never share a card or its errors.
   */
  readonly openCard?: CardOpener;
};

/** What approvals need. */
export type ApproverDeps = OfferParts & {
  readonly ownKey: OwnKey;
  /** The card when an approval names none. */
  readonly openCard: CardOpener | undefined;
};

type Refusal = Extract<ApproveResult, { kind: 'refused' | 'offer-changed' }>;

/** Approves the pending offer named by a reference (see module doc). Never throws. */
export type Approve = (
  ref: OfferRef,
  pin: PinSource,
  opts?: ApproveOptions,
) => Promise<ApproveResult>;

/** Creates the approval use case of one engine. */
export function createApprover(d: ApproverDeps): Approve {
  /**
   * Refuses an approval that does not name the ceremony's pending offer exactly as it was shown
   * (offer id and display digest). Audited: a swap is either a race the custodian must see or a
   * server trying to get an offer signed unseen.
   */
  const pendingAsShown = (ref: OfferRef): OfferEntry | Refusal => {
    const entry = d.book.get(ref.ceremonyId);
    if (!entry || entry.phase !== 'pending')
      return { kind: 'refused', message: `no pending offer for ceremony ${ref.ceremonyId}` };
    const pendingId = entry.verified.offer.offerId;
    const sameId = pendingId === ref.offerId;
    if (sameId && displayDigestOf(entry.verified) === ref.displayDigest) return entry;
    d.audit.record('error', {
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
  };

  /**
   * Re-checks right before the card: anchors, expiry and key may have changed since arrival,
   * and another ceremony may have had the same target and challenge signed meanwhile (replay,
   * docs/protocol.md §3.4), or the journal holds its signing intent (issue 11 item 8). Only the
   * chain's signature math is reused (chain-cache.ts). A failed re-check ends the offer.
   */
  const recheck = (entry: OfferEntry): VerifiedOffer | Refusal => {
    const offer = entry.verified.offer;
    const journaled = d.book.wasSigned(offer) ? undefined : journaledSigning(d.journal, offer);
    const checked =
      d.book.wasSigned(offer) || journaled !== undefined
        ? ({
            ok: false,
            error: {
              code: 'replayed',
              message:
                journaled ??
                `the challenge for ${offer.target.deviceId} was already signed (replay)`,
            },
          } as const)
        : d.checker.check(offer);
    if (checked.ok) return checked.value;
    const expired = checked.error.code === 'expired';
    d.tracker.move(entry, expired ? 'expire' : 'reject');
    d.refusals.refuse(offer, checked.error, !expired);
    d.emit({ type: 'offer-removed', ...idsOf(offer), reason: checked.error.code });
    return { kind: 'refused', message: checked.error.message, reason: checked.error.code };
  };

  /** The approval entry, on disk before the card is touched; false when it could not be. */
  const auditIntent = (v: VerifiedOffer): boolean => {
    const offer = v.offer;
    return d.audit.record('approval', {
      ...idsOf(offer),
      target: v.deviceId,
      anchor: v.anchor.chr,
      purpose: offer.purpose,
      requester: offer.requester,
      keyId: offer.key.keyId,
      keyChr: offer.key.chr,
      challenge: offer.challenge,
    });
  };

  /**
   * What follows the card step, before the card is reset: journal, audit sync, the decision.
   * The script's per-command entries were written without fsync; they are made durable here,
   * before any decision can leave. If that fails, nothing is sent: the card's signature is
   * dropped and the approval counts nowhere (fail closed).
   */
  const conclude = (entry: OfferEntry, outcome: CardOutcome, intent: boolean): ApproveResult => {
    const offer = entry.verified.offer;
    const ids = idsOf(offer);
    if (intent) settleJournal(d.journal, d.audit, entry, outcome);
    if (!d.audit.sync() && outcome.kind === 'approved') {
      d.tracker.move(entry, 'approval-aborted');
      d.emit({ type: 'offer-updated', offer: viewOf(entry) });
      return { kind: 'refused', message: 'the audit log cannot be written; no decision was sent' };
    }
    if (outcome.kind === 'approved') {
      d.book.markSigned(offer);
      if (d.tracker.move(entry, 'approval-done'))
        d.outbox.decide(entry, { kind: 'approve', results: outcome.results });
    } else if (outcome.kind === 'pin-blocked') {
      d.audit.record('decline', { ...ids, reason: 'pin-failed' });
      if (d.tracker.move(entry, 'decline')) {
        const detail = 'the custodian PIN is blocked';
        d.outbox.decide(entry, { kind: 'decline', reason: 'pin-failed', detail });
      }
    } else {
      if (outcome.kind === 'card-error')
        d.audit.record('error', { ...ids, what: 'card', message: outcome.message });
      d.tracker.move(entry, 'approval-aborted');
    }
    d.tracker.report(entry);
    return outcome;
  };

  /** The card part: firewall for exactly this target and challenge, journal intent before SIGN. */
  const onCard = async (
    entry: OfferEntry,
    v: VerifiedOffer,
    openCard: CardOpener,
    pin: PinSource,
    confirmLastTry: boolean,
  ): Promise<ApproveResult> => {
    const ids = idsOf(v.offer);
    let intent = false;
    let result: ApproveResult | undefined;
    const outcome = await runCardApproval({
      openCard,
      pin,
      confirmLastTry,
      keyId: d.ownKey.keyId,
      keyChr: v.offer.key.chr,
      script: v.script,
      firewall: createApduFirewall({
        ceremonyId: ids.ceremonyId,
        targetDeviceChr: v.deviceIdBytes,
        challenge: v.challenge,
        keyId: d.ownKey.keyId,
      }),
      audit: (kind, data, o) => void d.audit.record(kind, data, o),
      ids,
      // Durable before the SIGN reaches the card (signing-journal.ts).
      beforeScript: () => {
        d.journal.record(journalRow(entry, 'intent'));
        intent = true;
      },
      // The decision leaves while the card is still held; the reset comes after it.
      afterCard: (o) => {
        result = conclude(entry, o, intent);
      },
    });
    return result ?? outcome;
  };

  return async (ref, pin, opts = {}) => {
    const openCard = opts.openCard ?? d.openCard;
    if (openCard === undefined)
      return { kind: 'refused', message: 'no custodian card was chosen; the card was not touched' };
    const entry = pendingAsShown(ref);
    if ('kind' in entry) return entry;
    const verified = recheck(entry);
    if ('kind' in verified) return verified;
    if (!auditIntent(verified))
      return {
        kind: 'refused',
        message: 'the audit log cannot be written; the card was not touched',
      };
    d.tracker.move(entry, 'approve');
    d.emit({ type: 'offer-updated', offer: viewOf(entry) });
    return onCard(entry, verified, openCard, pin, opts.confirmLastTry === true);
  };
}

const idsOf = (o: OfferMessage) => ({ ceremonyId: o.ceremonyId, offerId: o.offerId });
