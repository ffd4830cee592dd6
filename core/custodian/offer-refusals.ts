/**
 * Refused offers: each is audited, reported and (when it calls for an answer) declined towards
 * the server — behind the refusal flood guard (rejection-guard.ts, docs/protocol.md §8). Past
 * the guard's limit refusals are counted into a summary entry whose declines wait until it is
 * durable, and a server that keeps going is disconnected without automatic reconnect.
 * @module
 */
import {
  PROTOCOL_VERSION,
  type DecisionMessage,
  type OfferMessage,
} from '../../shared/protocol/index';
import type { TimerHandle, Timers } from '../net/timers';
import type { DecisionOutbox } from './decision-outbox';
import type { Emit, EngineAudit } from './engine-ports';
import type { OfferRejection } from './offer-verify';
import {
  createRejectionGuard,
  DEFAULT_REJECTION_LIMITS,
  type RejectionLimits,
} from './rejection-guard';
import { auditOfferRejected, declineFor } from './rejections';

/** The refusals of one connection. */
export type OfferRefusals = {
  /** Audits and reports a refused offer; `answer` also declines it towards the server. */
  refuse(offer: OfferMessage, rejection: OfferRejection, answer: boolean): void;
  /** Writes the pending summary (fsync'd), then sends the declines it covers. */
  flush(): void;
};

/** What the refusals need. */
export type OfferRefusalsDeps = {
  readonly audit: EngineAudit;
  readonly emit: Emit;
  readonly outbox: DecisionOutbox;
  readonly timers: Timers;
  /** Closes the connection for good (no reconnect until the engine is restarted). */
  readonly disconnect: (reason: string) => void;
  readonly limits?: RejectionLimits | undefined;
};

/** Creates the refusal handling of one connection. */
export function createOfferRefusals(d: OfferRefusalsDeps): OfferRefusals {
  const limits = d.limits ?? DEFAULT_REJECTION_LIMITS;
  const guard = createRejectionGuard(() => d.timers.now(), limits);
  /** Declines of aggregated rejections, sent once their summary is durable. */
  const held: { readonly frame: DecisionMessage; readonly expiresAt: Date }[] = [];
  let timer: TimerHandle | undefined;
  let suspicious = false;

  const flush = () => {
    if (timer !== undefined) d.timers.clearTimeout(timer);
    timer = undefined;
    const summary = guard.takeSummary();
    if (summary) {
      d.audit.record('offers-rejected-summary', { ...summary, byCode: { ...summary.byCode } });
      d.audit.sync();
    }
    for (const h of held.splice(0)) d.outbox.keepAndSend(h.frame, h.expiresAt);
  };

  /** Makes sure the pending summary is written when the window closes. */
  const scheduleSummary = () => {
    if (timer !== undefined) return;
    timer = d.timers.setTimeout(() => {
      timer = undefined;
      flush();
    }, limits.windowMs);
  };

  /** Audits, reports and disconnects a server that keeps sending refused offers. */
  const flagSuspicious = () => {
    if (suspicious) return;
    suspicious = true;
    flush();
    const reason = `${String(limits.suspicious)} or more refused offers within ${String(limits.windowMs / 1000)} s`;
    d.audit.record('server-suspicious', { reason, refusedCount: limits.suspicious });
    d.audit.sync();
    d.emit({ type: 'server-suspicious', reason, refusedCount: limits.suspicious });
    d.disconnect(`server suspicious: ${reason}`);
  };

  return {
    flush,
    refuse(offer, rejection, answer) {
      if (suspicious) return;
      const blocked = (rejection.blocked ?? []).filter((b) => !b.decision.allow).length;
      // Every refusal counts, `busy` (over the pending bound, docs/protocol.md §8) included: a
      // server that floods offers past the bound grows the audit log like any other refused flood.
      const verdict = guard.note(rejection.code, blocked);
      if (verdict === 'audit') auditOfferRejected(d.audit.record, offer, rejection);
      d.emit({ type: 'offer-rejected', offer, rejection });
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
        const expiresAt = new Date(Number.isFinite(expires) ? expires : d.timers.now());
        if (verdict === 'audit') d.outbox.keepAndSend(frame, expiresAt);
        else held.push({ frame, expiresAt });
      }
      if (verdict === 'aggregate') scheduleSummary();
      else if (verdict === 'suspicious') flagSuspicious();
    },
  };
}
