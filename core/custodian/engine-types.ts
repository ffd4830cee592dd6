/**
 * Types of the custodian engine's public surface: the event stream the CLI and the desktop app
 * render, the offer as shown to the custodian, and the engine's options.
 * @module
 */
import type { AuditData, AuditKind } from '../../shared/audit/audit-chain';
import type { TrustAnchor } from '../../shared/cvc/chain';
import type { OfferMessage, Progress, ResultMessage } from '../../shared/protocol/index';
import type { BackoffPolicy } from '../net/backoff';
import type { Timers } from '../net/timers';
import type { ConnectionState } from '../net/ws-client';
import type { WsConnector } from '../net/ws-transport';
import type { CardOpener } from './card-session';
import type { ChainCache } from './chain-cache';
import type { CeremonyPhase } from './ceremony-state';
import type { DecisionStore } from './decision-store';
import type { SigningJournal } from './signing-journal';
import type { RejectionLimits } from './rejection-guard';
import type { OfferRejection, OwnKey, VerifiedOffer } from './offer-verify';

/** An offer as the custodian sees it: what the server said plus what this client verified. */
export type OfferView = {
  readonly ceremonyId: string;
  readonly offerId: string;
  readonly phase: CeremonyPhase;
  /** Latest progress (updates replace the offer's). */
  readonly progress: Progress;
  readonly verified: VerifiedOffer;
  /**
   * Digest of what is shown for this offer (shared/policy/offer-display-digest.ts); an
   * approval must name it together with the offer id.
   */
  readonly displayDigest: string;
};

/**
 * The exact offer an approval is for: the one the custodian was shown. The engine refuses it
 * when that offer is no longer the ceremony's pending one (issue 7 item 3).
 */
export type OfferRef = {
  readonly ceremonyId: string;
  readonly offerId: string;
  readonly displayDigest: string;
};

/** The reference an approval of `view` must carry. */
export function refOf(view: OfferView): OfferRef {
  return {
    ceremonyId: view.ceremonyId,
    offerId: view.offerId,
    displayDigest: view.displayDigest,
  };
}

/** Everything the engine reports. */
export type EngineEvent =
  | { readonly type: 'connection'; readonly state: ConnectionState }
  | { readonly type: 'offer-added'; readonly offer: OfferView }
  | { readonly type: 'offer-updated'; readonly offer: OfferView }
  | {
      readonly type: 'offer-removed';
      readonly ceremonyId: string;
      readonly offerId: string;
      readonly reason: string;
    }
  | {
      readonly type: 'offer-rejected';
      readonly offer: OfferMessage;
      readonly rejection: OfferRejection;
    }
  | { readonly type: 'result'; readonly result: ResultMessage }
  | {
      readonly type: 'server-error';
      readonly code: string;
      readonly message: string;
      readonly ceremonyId?: string;
      readonly offerId?: string;
    }
  | { readonly type: 'enrolled'; readonly custodianId: string; readonly credential: string }
  | { readonly type: 'invalid-frame'; readonly message: string; readonly count: number }
  /**
   * The server refused the session credential (close 4001); the engine retries after
   * `retryInMs` (back-off). Repeated refusals: enrollment revoked, or someone guessing.
   */
  /**
   * The server kept sending refused offers (docs/protocol.md §8): the engine disconnected and
   * does not reconnect until restarted. The server operator may be the attacker.
   */
  | { readonly type: 'server-suspicious'; readonly reason: string; readonly refusedCount: number }
  | {
      readonly type: 'auth-refused';
      readonly reason: string;
      readonly attempt: number;
      readonly retryInMs: number;
    };

/** How the engine authenticates to the server (never with the PKA key). */
export type EngineAuth =
  | { readonly kind: 'session'; readonly custodianId: string; readonly credential: string }
  | {
      readonly kind: 'enroll';
      readonly token: string;
      readonly pka: Uint8Array;
      readonly keyId: number;
    };

/**
 * Where audit entries go (core/audit's AuditLog fits). `{ sync: false }` entries may be
 * buffered until `sync()`; the engine syncs before any decision leaves for the server.
 */
export type AuditAppender = {
  append(kind: AuditKind, data: AuditData, options?: { readonly sync?: boolean }): unknown;
  sync?(): unknown;
};

/** Options of the engine. */
export type EngineOptions = {
  readonly url: string;
  readonly connector: WsConnector;
  readonly auth: EngineAuth;
  readonly anchors: readonly TrustAnchor[];
  readonly ownKey: OwnKey;
  /**
   * The card approvals use when `approve` names none (a front end with one configured card);
   * a front end with several readers passes `openCard` per approval instead.
   */
  readonly openCard?: CardOpener;
  readonly audit: AuditAppender;
  /** Where decisions are remembered across restarts (default: memory only). */
  readonly decisions?: DecisionStore;
  /**
   * Intent and outcome of every card signature, fsync'd around the card step, so an offer is
   * never signed twice across a crash (signing-journal.ts; default: memory only).
   */
  readonly journal?: SigningJournal;
  /**
   * Refusal-flood thresholds (rejection-guard.ts; default: the shipped constants). Only a test
   * world whose subject is many refusals on one connection (the hostile suites) raises them.
   */
  readonly rejectionLimits?: RejectionLimits;
  /** Validated target chains (default: a new bounded cache per engine, chain-cache.ts). */
  readonly chainCache?: ChainCache;
  /** Reconnect after drops (default true). */
  readonly reconnect?: boolean;
  readonly client?: { readonly name: string; readonly version: string };
  readonly timers?: Timers;
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
};
