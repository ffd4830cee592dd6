/**
 * The custodian engine, shared by the CLI and the desktop app: keeps the server connection,
 * verifies offers as they arrive, tracks them through reconnects, and runs an approval only
 * when the custodian approves that specific ceremony (docs/card-reference.md §12; docs/card-reference.md §14.2).
 * Every approval, decline, forwarded or blocked command and error goes to the audit log; the
 * approval entry is on disk before the card is touched.
 * @module
 */
import { toHex } from '../../shared/codec/bytes';
import {
  CLOSE_CODES,
  PROTOCOL_VERSION,
  type DeclineReason,
  type HelloMessage,
} from '../../shared/protocol/index';
import { systemTimers } from '../net/timers';
import { createServerClient, type ConnectionState } from '../net/ws-client';
import type { PinSource } from './card-session';
import { createChainCache } from './chain-cache';
import { createDecisionOutbox } from './decision-outbox';
import { memoryDecisionStore } from './decision-store';
import { createApprover, type ApproveOptions, type ApproveResult } from './engine-approve';
import { createInbox } from './engine-inbox';
import { createEmitter, engineAudit } from './engine-ports';
import type { EngineEvent, EngineOptions, OfferRef, OfferView } from './engine-types';
import { OfferBook } from './offer-book';
import { createOfferChecker } from './offer-checker';
import { createOfferRefusals } from './offer-refusals';
import { createOfferTracker } from './offer-tracker';
import { viewOf } from './offer-view';
import { displayText } from './rejections';
import { memorySigningJournal } from './signing-journal';

export type { ApproveOptions, ApproveResult };

/** A running engine. */
export type CustodianEngine = {
  start(): void;
  stop(): void;
  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: EngineEvent) => void): () => void;
  /** The offers that can still be acted on or are awaiting the server's answer. */
  offers(): OfferView[];
  /**
   * Approves exactly the offer the custodian was shown (`refOf(view)`) with the card
   * `options.openCard` opens (default: the engine's); refused (`offer-changed`) when it is no
   * longer the ceremony's pending offer. A card failure's outcome carries its transport error.
   */
  approve(offer: OfferRef, pin: PinSource, options?: ApproveOptions): Promise<ApproveResult>;
  /** Declines one ceremony's pending offer; false when there is none. */
  decline(ceremonyId: string, reason?: DeclineReason, detail?: string): boolean;
  readonly connection: ConnectionState;
};

function helloOf(options: EngineOptions): HelloMessage {
  const a = options.auth;
  return {
    v: PROTOCOL_VERSION,
    type: 'hello',
    client: options.client ?? { name: 'custodian', version: '0.1.0' },
    auth:
      a.kind === 'session'
        ? { kind: 'session', custodianId: a.custodianId, credential: a.credential }
        : { kind: 'enroll', token: a.token, pka: toHex(a.pka), keyId: a.keyId },
  };
}

/**
 * Creates the engine (not started): the parts, each given exactly what it uses — the offer
 * book and its lifecycle, the checker, the decision outbox, the refusals behind the flood
 * guard, the inbox of server messages and the approval use case.
 */
export function createCustodianEngine(options: EngineOptions): CustodianEngine {
  const timers = options.timers ?? systemTimers;
  const { emit, on } = createEmitter();
  const audit = engineAudit(options.audit);
  const book = new OfferBook();
  const journal = options.journal ?? memorySigningJournal();
  const tracker = createOfferTracker(book, timers, emit);
  const checker = createOfferChecker({
    anchors: options.anchors,
    ownKey: options.ownKey,
    chainCache: options.chainCache ?? createChainCache(),
    timers,
  });
  const outbox = createDecisionOutbox({
    store: options.decisions ?? memoryDecisionStore(),
    send: (m) => client.send(m),
    audit,
  });
  const refusals = createOfferRefusals({
    audit,
    emit,
    outbox,
    timers,
    disconnect: (reason) => client.stop(reason),
    limits: options.rejectionLimits,
  });
  const parts = { book, tracker, checker, refusals, outbox, journal, audit, emit };
  const approve = createApprover({ ...parts, ownKey: options.ownKey, openCard: options.openCard });

  const client = createServerClient({
    url: options.url,
    connector: options.connector,
    hello: () => helloOf(options),
    reconnect: options.reconnect ?? true,
    timers,
    ...(options.random ? { random: options.random } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    onState: (state) => {
      if (state.kind === 'authenticated') {
        audit.record('connection', { state: state.kind, custodianId: state.custodianId });
      } else if (state.kind === 'waiting' || state.kind === 'stopped') {
        audit.record('connection', { state: state.kind, reason: state.reason });
      }
      emit({ type: 'connection', state });
      if (state.kind === 'waiting' && state.code === CLOSE_CODES.AUTH_FAILED) {
        emit({
          type: 'auth-refused',
          reason: state.reason,
          attempt: state.attempt,
          retryInMs: state.delayMs,
        });
      }
      // Resume: decisions the server may not have received are sent again (it de-duplicates).
      if (state.kind === 'authenticated') {
        for (const e of book.entries()) if (e.decision) outbox.resend(e.decision);
      }
    },
    onInvalidFrame: (f) => {
      audit.record('error', { what: 'invalid-frame', code: f.error.code, count: f.count });
      emit({ type: 'invalid-frame', message: f.error.message, count: f.count });
    },
    onMessage: createInbox(parts),
  });

  return {
    get connection() {
      return client.state;
    },
    start: () => client.start(),
    stop() {
      tracker.stop();
      refusals.flush();
      client.stop();
    },
    on,
    offers: () =>
      book
        .entries()
        .filter((e) => e.phase === 'pending' || e.phase === 'approving' || e.decision !== undefined)
        .map(viewOf),
    approve,
    decline(ceremonyId, reason = 'user-declined', detail) {
      const entry = book.get(ceremonyId);
      if (!entry || entry.phase !== 'pending') return false;
      const offerId = entry.verified.offer.offerId;
      audit.record('decline', { ceremonyId, offerId, reason, ...(detail ? { detail } : {}) });
      tracker.move(entry, 'decline');
      outbox.decide(
        entry,
        detail
          ? { kind: 'decline', reason, detail: displayText(detail) }
          : { kind: 'decline', reason },
      );
      emit({ type: 'offer-updated', offer: viewOf(entry) });
      return true;
    },
  };
}
