/**
 * What a decision writes, each state change with its audit entry in one transaction (issue 11
 * item 3), grouped with the other decisions of the same event-loop turn into one commit and
 * awaited before anything is answered (Store.durably, group-commit.ts), and the answers sent
 * to the custodian: declines, refusals before the card, the
 * approval intent before the card step, its outcome after it (server/README.md "Intent before
 * every card step").
 * @module
 */
import { toHex } from '../../shared/codec/bytes';
import { swHex } from '../../shared/card/status-words';
import {
  PROTOCOL_VERSION,
  type DecisionMessage,
  type ErrorCode,
  type ResultMessage,
} from '../../shared/protocol';
import type { CeremonyRecord } from '../store/ceremonies';
import type { Custodian } from '../store/custodians';
import type { Count } from './approval-count';
import type { CeremonyContext } from './context';

/** Why an approval was refused before any card step. */
export type Refusal = { sw: number; reason: string };

/** A decision being handled: who sent it and its canonical form (idempotence key). */
export type Decision = {
  readonly ctx: CeremonyContext;
  readonly cu: Custodian;
  readonly msg: DecisionMessage;
  readonly key: string;
};

export const NOT_RECORDED = 'the server could not record your answer (store failure).';
export const REOPENED = 'The target was reset and the ceremony re-opened: approve the new offer.';

export function sendError(d: Decision, code: ErrorCode, message: string): void {
  d.ctx.link.send(d.cu.id, {
    v: PROTOCOL_VERSION,
    type: 'error',
    code,
    message,
    ceremonyId: d.msg.ceremonyId,
    offerId: d.msg.offerId,
  });
}

/** The audit fields every entry of one approval carries. */
function auditBaseOf(d: Decision, c: CeremonyRecord, plain: Uint8Array | undefined) {
  return {
    ceremonyId: c.id,
    custodian: d.cu.name,
    keyChr: d.cu.keyChr,
    epoch: c.epoch,
    challenge: c.challenge ?? '',
    ...(plain ? { signature: toHex(plain) } : {}),
  };
}

function answerOf(d: Decision, c: CeremonyRecord) {
  return { ceremonyId: c.id, custodianId: d.cu.id, epoch: c.epoch, time: d.ctx.now() };
}

/** A decline: recorded with its audit entry in one transaction; never touches the card. */
export async function recordDecline(d: Decision, c: CeremonyRecord, reason: string): Promise<void> {
  const { ctx, cu } = d;
  try {
    await ctx.store.durably(() => {
      ctx.store.ceremonies.recordApproval({
        ...answerOf(d, c),
        outcome: 'declined',
        sw: undefined,
      });
      ctx.audit('decline', { ceremonyId: c.id, custodian: cu.name, reason });
    });
  } catch (e) {
    ctx.store.health.failed(`recording ${cu.name}'s decline`, e);
    return sendError(d, 'internal-error', NOT_RECORDED);
  }
  ctx.noteDecided(c.id, d.msg.offerId, { decision: d.key, result: undefined });
  ctx.broadcast(c.id, `${cu.name} declined`);
  ctx.failIfHopeless(c);
}

/**
 * An approval refused before any card step (blocked script, bad signature): recorded as
 * failed with its audit entry; the card is not involved, so no queue.
 */
export async function recordRefusal(
  d: Decision,
  c: CeremonyRecord,
  refusal: Refusal,
): Promise<void> {
  const { ctx, cu } = d;
  try {
    await ctx.store.durably(() => {
      ctx.store.ceremonies.recordApproval({
        ...answerOf(d, c),
        outcome: 'failed',
        sw: swHex(refusal.sw),
      });
      ctx.audit('approval-failed', {
        ...auditBaseOf(d, c, undefined),
        sw: swHex(refusal.sw),
        authenticated: ctx.authenticated(c.id),
        reason: refusal.reason,
      });
    });
  } catch (e) {
    ctx.store.health.failed(`recording ${cu.name}'s approval outcome`, e);
    return sendError(d, 'internal-error', NOT_RECORDED);
  }
  sendResult(d, c, false, refusal.sw, refusal.reason);
  ctx.broadcast(c.id, `${cu.name}: ${refusal.reason}`);
  ctx.failIfHopeless(c);
}

/** 1. The intent, durably, before the irreversible card step (issue 11 item 2). */
export async function recordIntent(
  d: Decision,
  c: CeremonyRecord,
  plain: Uint8Array,
): Promise<boolean> {
  const { ctx, cu } = d;
  try {
    await ctx.store.durably(() => {
      if (!ctx.store.ceremonies.recordIntent(answerOf(d, c))) throw new Error('already answered');
      ctx.audit('approval-intent', auditBaseOf(d, c, plain));
    });
    return true;
  } catch (e) {
    ctx.store.health.report(`recording ${cu.name}'s approval intent`, e);
    sendError(d, 'internal-error', NOT_RECORDED);
    return false;
  }
}

/**
 * The intent of a signature that never reached the card (the ceremony changed while the
 * decision waited for the queue): resolved as failed, so the record says what happened.
 */
export async function dropIntent(
  d: Decision,
  c: CeremonyRecord,
  plain: Uint8Array,
  why: string,
): Promise<void> {
  const { ctx, cu } = d;
  try {
    await ctx.store.durably(() => {
      const outcome = { ...answerOf(d, c), outcome: 'failed', sw: undefined } as const;
      if (ctx.store.ceremonies.resolveIntent(outcome)) {
        ctx.audit('approval-failed', {
          ...auditBaseOf(d, c, plain),
          authenticated: 0,
          reason: `not presented to the target: ${why}`,
        });
      }
    });
  } catch (e) {
    // Left pending: resolved as forgotten when the card's state goes (re-open, restart).
    ctx.store.health.failed(`resolving ${cu.name}'s approval intent`, e);
  }
}

/** 3. The outcome and its audit entry, one transaction (issue 11 item 3). */
export async function recordOutcome(
  d: Decision,
  c: CeremonyRecord,
  plain: Uint8Array,
  count: Count,
): Promise<boolean> {
  const { ctx, cu } = d;
  const outcome = {
    ...answerOf(d, c),
    outcome: count.counted ? 'approved' : 'failed',
    sw: swHex(count.sw),
  } as const;
  try {
    await ctx.store.durably(() => {
      ctx.store.ceremonies.resolveIntent(outcome);
      ctx.audit(count.counted ? 'approval' : 'approval-failed', {
        ...auditBaseOf(d, c, plain),
        sw: swHex(count.sw),
        authenticated: count.authenticated,
        ...(count.reason === undefined ? {} : { reason: count.reason }),
      });
    });
    return true;
  } catch (e) {
    ctx.store.health.failed(`recording ${cu.name}'s approval outcome`, e);
    return false;
  }
}

export function sendResult(
  d: Decision,
  c: CeremonyRecord,
  accepted: boolean,
  sw: number,
  reason: string | undefined,
): void {
  const result: ResultMessage = {
    v: PROTOCOL_VERSION,
    type: 'result',
    ceremonyId: c.id,
    offerId: d.msg.offerId,
    outcome: accepted ? 'accepted' : 'refused',
    sw,
    progress: d.ctx.progress(c),
    ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
  };
  d.ctx.noteDecided(c.id, d.msg.offerId, { decision: d.key, result });
  d.ctx.link.send(d.cu.id, result);
}
