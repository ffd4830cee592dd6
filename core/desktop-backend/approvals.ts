/**
 * Approving and declining from the desktop app: the engine does the work (re-check, audit,
 * PIN, firewall, decision); this maps the request and the outcome. The PIN arrives as bytes the
 * caller wipes; the engine receives its own copy, made only when it asks, and wipes that.
 * An approval waits (bounded) for the server's `result`, so the count shown is the card's.
 * @module
 */
import { ipcError, type IpcError } from '../../shared/ipc/errors';
import type { CeremonyResult } from '../../shared/ipc/model';
import type { ResultMessage } from '../../shared/protocol/index';
import type { Result } from '../../shared/result';
import type { CardOpener, PinSource } from '../custodian/card-session';
import type { CustodianEngine } from '../custodian/engine';
import type { OfferRef, OfferView } from '../custodian/engine-types';
import type { CeremonyBook } from './ceremony-book';
import { approvalFailure } from './errors';

/** What the approvals need. */
export type ApprovalDeps = {
  readonly book: CeremonyBook;
  readonly engineOf: (serverId: string) => CustodianEngine | undefined;
  /** Runs card work one at a time. */
  readonly serial: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The card in the reader the custodian chose, for one approval. */
  readonly openCard: (reader: string) => CardOpener;
  readonly timeoutMs: number;
};

/** The approval service. */
export type Approvals = {
  approve(
    r: {
      ceremonyId: string;
      /** The offer the custodian was shown (CeremonyDetail.offerId / offerDigest). */
      offerId: string;
      offerDigest: string;
      reader: string;
      pin?: Uint8Array;
      confirmLastTry?: boolean;
      acknowledgeTestAnchor?: string;
    },
    changed: () => void,
  ): Promise<Result<CeremonyResult, IpcError>>;
  decline(
    r: { ceremonyId: string; reason?: string },
    changed: () => void,
  ): Result<CeremonyResult, IpcError>;
  /** The PIN-pad dialog's Cancel: aborts the ceremony's pending PIN-pad entry. */
  cancelPinPad(ceremonyId: string): boolean;
  /** Feeds the server's `result` messages. */
  onResult(result: ResultMessage): void;
};

const fail = (error: IpcError) => ({ ok: false as const, error });

/**
 * Defence in depth behind the renderer's TEST acknowledgement: a target whose chain ends in a
 * root that is not built in (a configured TEST root) is approved only when the request names
 * exactly that root; an acknowledgement for anything else (a production-rooted target, another
 * root) is refused too, so a confused or compromised renderer cannot approve by accident.
 * Returns the refusal, or undefined when the request matches the offer.
 */
export function testAnchorRefusal(
  offer: OfferView,
  acknowledged: string | undefined,
): IpcError | undefined {
  const anchor = offer.verified.anchor;
  if (anchor.test) {
    if (acknowledged === anchor.chr) return undefined;
    return ipcError(
      'test-anchor-unacknowledged',
      acknowledged === undefined
        ? `target ${offer.verified.deviceId} chains to the TEST root ${anchor.chr}; not acknowledged`
        : `acknowledged ${acknowledged}, but target ${offer.verified.deviceId} chains to the TEST root ${anchor.chr}`,
    );
  }
  if (acknowledged === undefined) return undefined;
  return ipcError(
    'invalid-request',
    `acknowledged the TEST root ${acknowledged}, but target ${offer.verified.deviceId} chains to the built-in ${anchor.chr}`,
  );
}

/** The refusal of an approval whose offer is not the one shown (issue 7 item 3). */
function offerChanged(shown: OfferRef, pending: OfferView): IpcError {
  return ipcError(
    'offer-changed',
    shown.offerId === pending.offerId
      ? `offer ${shown.offerId} does not match what was shown; nothing was signed`
      : `offer ${shown.offerId} was replaced by ${pending.offerId}; nothing was signed — review it again`,
  );
}

/** Creates the approval service. */
export function createApprovals(d: ApprovalDeps): Approvals {
  const waiting = new Map<string, (r: ResultMessage) => void>();
  // The pending PIN-pad entry of each ceremony being approved, for the dialog's Cancel.
  const pinPads = new Map<string, AbortController>();

  const open = (ceremonyId: string) => {
    const rec = d.book.get(ceremonyId);
    if (!rec) return fail(ipcError('ceremony-not-found', `no ceremony ${ceremonyId}`));
    if (rec.status === 'expired')
      return fail(ipcError('ceremony-expired', `ceremony ${ceremonyId} expired`));
    if (rec.status !== 'waiting')
      return fail(ipcError('ceremony-closed', `ceremony ${ceremonyId} is ${rec.status}`));
    const engine = d.engineOf(rec.serverId);
    if (!engine)
      return fail(ipcError('server-unreachable', `server ${rec.serverId} is not running`));
    return { ok: true as const, value: { rec, engine } };
  };

  return {
    async approve(r, changed) {
      const first = open(r.ceremonyId);
      if (!first.ok) return first;
      const { engine, rec } = first.value;
      const shown: OfferRef = {
        ceremonyId: r.ceremonyId,
        offerId: r.offerId,
        displayDigest: r.offerDigest,
      };
      // Checked here for a clear answer; the engine checks again right before the card.
      if (rec.offer.offerId !== shown.offerId || rec.offer.displayDigest !== shown.displayDigest)
        return fail(offerChanged(shown, rec.offer));
      const refused = testAnchorRefusal(rec.offer, r.acknowledgeTestAnchor);
      if (refused) return fail(refused);
      const offerId = rec.offer.offerId;
      const pinPadCancel = new AbortController();
      const pin: PinSource =
        r.pin === undefined
          ? { kind: 'pinpad', signal: pinPadCancel.signal }
          : // A fresh copy for the engine, which wipes it after VERIFY (card-session.ts).
            { kind: 'typed', read: async () => r.pin!.slice() };
      let settle: (m: ResultMessage | undefined) => void = () => {};
      const answer = new Promise<ResultMessage | undefined>((resolve) => {
        const timer = setTimeout(() => settle(undefined), d.timeoutMs);
        settle = (m) => {
          clearTimeout(timer);
          waiting.delete(offerId);
          resolve(m);
        };
        waiting.set(offerId, settle);
      });
      if (r.pin === undefined) pinPads.set(r.ceremonyId, pinPadCancel);
      let outcome;
      try {
        outcome = await d.serial(async () => {
          // Checked again on the engine's current offer, right before the card is used: a
          // replacement offer that arrived meanwhile must match the acknowledgement as well.
          const current = engine.offers().find((o) => o.ceremonyId === r.ceremonyId);
          const late = current && testAnchorRefusal(current, r.acknowledgeTestAnchor);
          if (late) return { kind: 'refused-ack' as const, error: late };
          return engine.approve(shown, pin, {
            openCard: d.openCard(r.reader),
            ...(r.confirmLastTry === true ? { confirmLastTry: true } : {}),
          });
        });
      } finally {
        if (pinPads.get(r.ceremonyId) === pinPadCancel) pinPads.delete(r.ceremonyId);
      }
      if (outcome.kind === 'refused-ack') {
        settle(undefined);
        return fail(outcome.error);
      }
      changed();
      if (outcome.kind !== 'approved') {
        settle(undefined);
        return fail(approvalFailure(outcome));
      }
      const result = await answer;
      changed();
      const required = rec.offer.verified.offer.quorum.n;
      if (result?.outcome === 'refused') {
        return fail(
          ipcError(
            'internal',
            `the target refused the signature: ${result.reason ?? result.sw.toString(16)}`,
          ),
        );
      }
      // Without the server's answer in time: what the last update said.
      const approvals =
        result?.progress.authenticated ?? d.book.summary(r.ceremonyId)?.approvals ?? 0;
      return {
        ok: true,
        value: {
          ceremonyId: r.ceremonyId,
          outcome: approvals >= required ? 'quorum' : 'approved',
          approvals,
          required,
          blocked: outcome.blocked,
        },
      };
    },
    decline(r, changed) {
      const first = open(r.ceremonyId);
      if (!first.ok) return first;
      const { engine, rec } = first.value;
      const done = engine.decline(r.ceremonyId, 'user-declined', r.reason);
      if (!done)
        return fail(
          ipcError('ceremony-closed', `ceremony ${r.ceremonyId} can no longer be declined`),
        );
      changed();
      const summary = d.book.summary(r.ceremonyId);
      return {
        ok: true,
        value: {
          ceremonyId: r.ceremonyId,
          outcome: 'declined',
          approvals: summary?.approvals ?? 0,
          required: rec.offer.verified.offer.quorum.n,
          blocked: 0,
        },
      };
    },
    cancelPinPad(ceremonyId) {
      const pending = pinPads.get(ceremonyId);
      if (pending === undefined || pending.signal.aborted) return false;
      pending.abort();
      return true;
    },
    onResult(result) {
      waiting.get(result.offerId)?.(result);
    },
  };
}
