/**
 * The custodian's decisions on their way to the server: each is kept in the decision store
 * (resent unchanged after a reconnect or restart until the server confirms it,
 * docs/protocol.md §3.4) and then sent if connected.
 * @module
 */
import {
  PROTOCOL_VERSION,
  type ClientMessage,
  type DecisionMessage,
} from '../../shared/protocol/index';
import type { DecisionStore } from './decision-store';
import type { EngineAudit } from './engine-ports';
import type { OfferEntry } from './offer-book';

/** The outbox of one engine. */
export type DecisionOutbox = {
  /** Records the decision on the tracked offer, keeps it and sends it. */
  decide(entry: OfferEntry, decision: DecisionMessage['decision']): void;
  /** Keeps and sends a decision about an offer that is not tracked (a refusal, a resend). */
  keepAndSend(frame: DecisionMessage, expiresAt: Date): void;
  /** Sends a decision again (reconnect, offer resent); nothing is kept anew. */
  resend(frame: DecisionMessage): void;
  /** The decision kept for an offer, if any (across restarts). */
  kept(offerId: string): DecisionMessage | undefined;
};

/** What the outbox needs. */
export type DecisionOutboxDeps = {
  readonly store: DecisionStore;
  /** Sends if connected. */
  readonly send: (message: ClientMessage) => unknown;
  readonly audit: EngineAudit;
};

/** Creates the outbox. */
export function createDecisionOutbox(d: DecisionOutboxDeps): DecisionOutbox {
  const keepAndSend = (frame: DecisionMessage, expiresAt: Date) => {
    try {
      d.store.put(frame, expiresAt);
    } catch {
      const { ceremonyId, offerId } = frame;
      d.audit.record('error', { what: 'decision-store', ceremonyId, offerId });
    }
    d.send(frame);
  };
  return {
    decide(entry, decision) {
      const { ceremonyId, offerId } = entry.verified.offer;
      entry.decision = { v: PROTOCOL_VERSION, type: 'decision', ceremonyId, offerId, decision };
      keepAndSend(entry.decision, entry.verified.expiresAt);
    },
    keepAndSend,
    resend: (frame) => void d.send(frame),
    kept: (offerId) => d.store.get(offerId),
  };
}
