/**
 * The engine's use of the signing journal (signing-journal.ts, issue 11 item 8): never sign an
 * offer, or its signed input, whose signing intent is on disk — the card may already have
 * signed it before a crash — and record each card step's intent and outcome.
 * @module
 */
import type { OfferMessage, ScriptResult } from '../../shared/protocol/index';
import type { CardOutcome } from './card-session';
import type { EngineAudit } from './engine-ports';
import type { OfferEntry } from './offer-book';
import type { JournalRow, JournalState, SigningJournal } from './signing-journal';

/** Why `offer` must not be signed because the journal holds a signing of it, if it does. */
export function journaledSigning(journal: SigningJournal, offer: OfferMessage): string | undefined {
  const own = journal.byOffer(offer.offerId);
  const row =
    own && own.state !== 'aborted' ? own : journal.byInput(offer.target.deviceId, offer.challenge);
  if (!row) return undefined;
  return row.offerId === offer.offerId
    ? `offer ${offer.offerId} already went to the card${row.state === 'intent' ? ' (the approval was interrupted)' : ''}; it is never signed twice`
    : `the challenge for ${offer.target.deviceId} already went to the card for offer ${row.offerId} (replay); it is never signed twice`;
}

/** The journal row of a tracked offer. */
export function journalRow(
  entry: OfferEntry,
  state: JournalState,
  results?: ScriptResult[],
): JournalRow {
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
export function settleJournal(
  journal: SigningJournal,
  audit: EngineAudit,
  entry: OfferEntry,
  outcome: CardOutcome,
): void {
  try {
    if (outcome.kind === 'approved') {
      if (audit.sync()) journal.record(journalRow(entry, 'signed', outcome.results));
    } else journal.record(journalRow(entry, 'aborted'));
  } catch {
    const { ceremonyId, offerId } = entry.verified.offer;
    audit.record('error', { what: 'signing-journal', ceremonyId, offerId });
  }
}
