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
import { approveCeremony, type ApproveOptions, type ApproveResult } from './engine-approve';
import { createChainCache } from './chain-cache';
import { decide, move, viewOf, type EngineContext } from './engine-context';
import { handleServerMessage } from './engine-inbox';
import type { EngineEvent, EngineOptions, OfferRef, OfferView } from './engine-types';
import { memoryDecisionStore } from './decision-store';
import { memorySigningJournal } from './signing-journal';
import { OfferBook } from './offer-book';
import { displayText } from './rejections';
import { createFloodControl, flushRejectionSummary } from './engine-flood';

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
   * Approves exactly the offer the custodian was shown (`refOf(view)`) with the custodian's
   * card; refused (`offer-changed`) when it is no longer the ceremony's pending offer.
   */
  approve(offer: OfferRef, pin: PinSource, options?: ApproveOptions): Promise<ApproveResult>;
  /** Declines one ceremony's pending offer; false when there is none. */
  decline(ceremonyId: string, reason?: DeclineReason, detail?: string): boolean;
  readonly connection: ConnectionState;
};

/** Creates the engine (not started). */
export function createCustodianEngine(options: EngineOptions): CustodianEngine {
  const timers = options.timers ?? systemTimers;
  const listeners = new Set<(e: EngineEvent) => void>();
  const book = new OfferBook();

  const hello = (): HelloMessage => {
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
  };

  const ctx: EngineContext = {
    options,
    timers,
    book,
    decisions: options.decisions ?? memoryDecisionStore(),
    journal: options.journal ?? memorySigningJournal(),
    chainCache: options.chainCache ?? createChainCache(),
    emit(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch {
          // A broken listener must not stop the engine.
        }
      }
    },
    audit(kind, data, opts) {
      try {
        options.audit.append(kind, data, opts);
        return true;
      } catch {
        return false;
      }
    },
    auditSync() {
      try {
        options.audit.sync?.();
        return true;
      } catch {
        return false;
      }
    },
    flood: createFloodControl(() => timers.now(), options.rejectionLimits),
    disconnect: (reason) => client.stop(reason),
    send: (message) => client.send(message),
    clockOffsetMs: 0,
  };

  const client = createServerClient({
    url: options.url,
    connector: options.connector,
    hello,
    reconnect: options.reconnect ?? true,
    timers,
    ...(options.random ? { random: options.random } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    onState: (state) => {
      if (state.kind === 'authenticated') {
        ctx.audit('connection', { state: state.kind, custodianId: state.custodianId });
      } else if (state.kind === 'waiting' || state.kind === 'stopped') {
        ctx.audit('connection', { state: state.kind, reason: state.reason });
      }
      ctx.emit({ type: 'connection', state });
      if (state.kind === 'waiting' && state.code === CLOSE_CODES.AUTH_FAILED) {
        ctx.emit({
          type: 'auth-refused',
          reason: state.reason,
          attempt: state.attempt,
          retryInMs: state.delayMs,
        });
      }
      // Resume: decisions the server may not have received are sent again (it de-duplicates).
      if (state.kind === 'authenticated') {
        for (const e of book.entries()) if (e.decision) client.send(e.decision);
      }
    },
    onInvalidFrame: (f) => {
      ctx.audit('error', { what: 'invalid-frame', code: f.error.code, count: f.count });
      ctx.emit({ type: 'invalid-frame', message: f.error.message, count: f.count });
    },
    onMessage: (m) => handleServerMessage(ctx, m),
  });

  return {
    get connection() {
      return client.state;
    },
    start: () => client.start(),
    stop() {
      for (const e of book.entries()) if (e.expiry !== undefined) timers.clearTimeout(e.expiry);
      flushRejectionSummary(ctx);
      client.stop();
    },
    on(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    offers: () =>
      book
        .entries()
        .filter((e) => e.phase === 'pending' || e.phase === 'approving' || e.decision !== undefined)
        .map(viewOf),
    approve: (ref, pin, opts) => approveCeremony(ctx, ref, pin, opts),
    decline(ceremonyId, reason = 'user-declined', detail) {
      const entry = book.get(ceremonyId);
      if (!entry || entry.phase !== 'pending') return false;
      const offerId = entry.verified.offer.offerId;
      ctx.audit('decline', { ceremonyId, offerId, reason, ...(detail ? { detail } : {}) });
      move(ctx, entry, 'decline');
      decide(
        ctx,
        entry,
        detail
          ? { kind: 'decline', reason, detail: displayText(detail) }
          : { kind: 'decline', reason },
      );
      ctx.emit({ type: 'offer-updated', offer: viewOf(entry) });
      return true;
    },
  };
}
