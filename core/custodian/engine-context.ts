/**
 * The engine's internal shared state and helpers, passed to the message handlers
 * (engine-inbox) and the approval flow (engine-approve) so each stays small.
 * @module
 */
import type { AuditData, AuditKind } from '../../shared/audit/audit-chain';
import {
  PROTOCOL_VERSION,
  type ClientMessage,
  type DecisionMessage,
  type OfferMessage,
} from '../../shared/protocol/index';
import type { Timers } from '../net/timers';
import { isOpen, transition, type CeremonyEvent, type CeremonyPhase } from './ceremony-state';
import type { EngineEvent, EngineOptions, OfferView } from './engine-types';
import type { ChainCache } from './chain-cache';
import type { DecisionStore } from './decision-store';
import type { SigningJournal } from './signing-journal';
import type { OfferBook, OfferEntry } from './offer-book';
import type { OfferRejection, VerifiedOffer } from './offer-verify';
import { verifyOffer } from './offer-verify';
import { offerDisplayDigest } from '../../shared/policy/offer-display-digest';
import { auditOfferRejected, declineFor } from './rejections';
import type { FloodControl } from './engine-flood';
import { flagSuspiciousServer, scheduleRejectionSummary, sendDecline } from './engine-flood';

/** What the engine's parts share. */
export type EngineContext = {
  readonly options: EngineOptions;
  readonly timers: Timers;
  readonly book: OfferBook;
  readonly decisions: DecisionStore;
  /** Signing intent and outcome (never sign twice, issue 11 item 8). */
  readonly journal: SigningJournal;
  /** Validated target chains: the ECDSA runs on arrival, the re-check reuses it. */
  readonly chainCache: ChainCache;
  emit(event: EngineEvent): void;
  /** Appends to the audit log; false when it could not be written. */
  audit(kind: AuditKind, data: AuditData, options?: { readonly sync?: boolean }): boolean;
  /** Makes every entry written so far durable; false when that failed. */
  auditSync(): boolean;
  /** Refusal flood guard of this connection (docs/protocol.md §8). */
  readonly flood: FloodControl;
  /** Closes the connection for good (no reconnect until the engine is restarted). */
  disconnect(reason: string): void;
  /** Sends a message if connected (false otherwise). */
  send(message: ClientMessage): boolean;
  /** Server clock minus local clock from the last `welcome`, bounded (docs/protocol.md §8). */
  clockOffsetMs: number;
};

/** Largest server clock correction applied: the chain validity dates also depend on "now". */
export const MAX_CLOCK_OFFSET_MS = 5 * 60_000;

/** The time offers are checked against: the local clock corrected towards the server's. */
export function trustedNow(ctx: EngineContext): Date {
  return new Date(ctx.timers.now() + ctx.clockOffsetMs);
}

/** The display digest of a verified offer: what the custodian sees before approving. */
export function displayDigestOf(v: VerifiedOffer): string {
  const o = v.offer;
  return offerDisplayDigest({
    ceremonyId: o.ceremonyId,
    offerId: o.offerId,
    targetDeviceId: v.deviceId,
    targetLabel: o.target.label,
    challenge: o.challenge,
    keyId: o.key.keyId,
    keyChr: o.key.chr,
    purpose: o.purpose,
    requester: o.requester,
    anchorChr: v.anchor.chr,
    anchorTest: v.anchor.test,
    quorum: o.quorum,
    expiresAt: o.expiresAt,
  });
}

/** The offer as an event payload. */
export function viewOf(entry: OfferEntry): OfferView {
  return {
    ceremonyId: entry.verified.offer.ceremonyId,
    offerId: entry.verified.offer.offerId,
    phase: entry.phase,
    progress: entry.progress,
    verified: entry.verified,
    displayDigest: displayDigestOf(entry.verified),
  };
}

/** The current phase (a function, so TypeScript does not keep a narrowed phase across moves). */
export function phaseOf(entry: OfferEntry): CeremonyPhase {
  return entry.phase;
}

/** Applies a state machine event; clears the expiry timer once the offer is no longer open. */
export function move(ctx: EngineContext, entry: OfferEntry, event: CeremonyEvent): boolean {
  const next = transition(entry.phase, event);
  if (!next.ok) return false;
  entry.phase = next.value;
  if (!isOpen(entry.phase) && entry.expiry !== undefined) {
    ctx.timers.clearTimeout(entry.expiry);
    entry.expiry = undefined;
  }
  return true;
}

/** Records and sends the custodian's decision (kept for resending until the server confirms). */
export function decide(
  ctx: EngineContext,
  entry: OfferEntry,
  decision: DecisionMessage['decision'],
): void {
  const { ceremonyId, offerId } = entry.verified.offer;
  entry.decision = { v: PROTOCOL_VERSION, type: 'decision', ceremonyId, offerId, decision };
  try {
    ctx.decisions.put(entry.decision, entry.verified.expiresAt);
  } catch {
    ctx.audit('error', { what: 'decision-store', ceremonyId, offerId });
  }
  ctx.send(entry.decision);
}

/**
 * Audits and reports a rejected offer; `answer` also declines it towards the server. Past the
 * flood guard's limit the rejection is counted into a summary entry (its decline waits until
 * that entry is durable), and a server that keeps going is disconnected (docs/protocol.md §8).
 */
export function rejectOffer(
  ctx: EngineContext,
  offer: OfferMessage,
  rejection: OfferRejection,
  answer: boolean,
): void {
  if (ctx.flood.suspicious) return;
  const blocked = (rejection.blocked ?? []).filter((b) => !b.decision.allow).length;
  // Every refusal counts, `busy` (over the pending bound, docs/protocol.md §8) included: a
  // server that floods offers past the bound grows the audit log like any other refused flood.
  const verdict = ctx.flood.guard.note(rejection.code, blocked);
  if (verdict === 'audit') auditOfferRejected(ctx.audit, offer, rejection);
  ctx.emit({ type: 'offer-rejected', offer, rejection });
  if (answer) {
    const { reason, detail } = declineFor(rejection);
    const frame: DecisionMessage = {
      v: PROTOCOL_VERSION,
      type: 'decision',
      ceremonyId: offer.ceremonyId,
      offerId: offer.offerId,
      decision: { kind: 'decline', reason, detail },
    };
    const expires = Date.parse(offer.expiresAt);
    const expiresAt = new Date(Number.isFinite(expires) ? expires : ctx.timers.now());
    if (verdict === 'audit') sendDecline(ctx, frame, expiresAt);
    else ctx.flood.held.push({ frame, expiresAt });
  }
  if (verdict === 'aggregate') scheduleRejectionSummary(ctx);
  else if (verdict === 'suspicious') flagSuspiciousServer(ctx);
}

/**
 * Verifies an offer with the engine's anchors, key and clock. Everything is evaluated on every
 * call except the chain's signatures, which the chain cache keeps per chain and anchor set.
 */
export function check(ctx: EngineContext, offer: OfferMessage) {
  return verifyOffer(offer, {
    anchors: ctx.options.anchors,
    ownKey: ctx.options.ownKey,
    now: trustedNow(ctx),
    chainCache: ctx.chainCache,
  });
}
