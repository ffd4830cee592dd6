/**
 * A custodian's decision on an offer. Approval: the signature comes from the custodian card's
 * R-APDU (DER), is converted to plain r‖s (docs/card-reference.md §6.6 step 5), checked against the
 * registered key, then presented to the target with MSE SET AT + EXTERNAL AUTHENTICATE
 * (steps 1 and 6); the card's own status (`80 54`, docs/card-reference.md §6.4) is the count. Everything
 * that touches the card runs in the target's queue, and a custodian answers once per epoch.
 * @module
 */
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { canonicalJson } from '../../shared/audit/audit-chain';
import { asciiBytes, fromHex, toHex } from '../../shared/codec/bytes';
import { derToPlain, verifyPlain } from '../../shared/crypto/ecdsa';
import { CardStatusError, swHex, SW } from '../../shared/card/status-words';
import {
  PROTOCOL_VERSION,
  type DecisionMessage,
  type ErrorCode,
  type ResultMessage,
  type ScriptResult,
} from '../../shared/protocol';
import { buildPkaSignatureInput } from '../../shared/sc-hsm/pka-input';
import type { CeremonyRecord } from '../store/ceremonies';
import type { Custodian } from '../store/custodians';
import type { CeremonyContext, Runtime } from './context';

type Refusal = { sw: number; reason: string };

const NOT_RECORDED = 'the server could not record your answer (store failure).';
const REOPENED = 'The target was reset and the ceremony re-opened: approve the new offer.';

/**
 * MSE SET AT `A4 <key CHR>` then EXTERNAL AUTHENTICATE with plain r‖s, adjacent in the target's
 * queue (docs/card-reference.md §6.6 steps 1 and 6). Resolves with the SW of the step the card refused, or
 * `9000`: a refusal is the custodian's result, not a server failure.
 */
async function presentSignature(
  card: SmartCardHsm,
  keyChr: string,
  plain: Uint8Array,
): Promise<number> {
  try {
    await card.selectPkaKey(asciiBytes(keyChr));
    await card.externalAuthenticate(plain);
    return SW.OK;
  } catch (e) {
    if (e instanceof CardStatusError) return e.sw;
    throw e;
  }
}

function sendError(
  ctx: CeremonyContext,
  to: string,
  code: ErrorCode,
  message: string,
  msg: DecisionMessage,
) {
  ctx.link.send(to, {
    v: PROTOCOL_VERSION,
    type: 'error',
    code,
    message,
    ceremonyId: msg.ceremonyId,
    offerId: msg.offerId,
  });
}

/** Extracts and checks the plain signature from the script results; a refusal names why. */
function signatureFrom(
  ctx: CeremonyContext,
  results: readonly ScriptResult[],
  c: CeremonyRecord,
  cu: Custodian,
  deviceChr: Uint8Array,
): { plain: Uint8Array } | Refusal {
  const last = results[0]!;
  if ('blocked' in last) {
    return {
      sw: last.blocked.sw,
      reason: `custodian firewall blocked the script: ${last.blocked.reason}`,
    };
  }
  const rapdu = fromHex(last.rapdu);
  const sw = (rapdu[rapdu.length - 2]! << 8) | rapdu[rapdu.length - 1]!;
  if (sw !== SW.OK) return { sw, reason: `custodian card answered ${swHex(sw)}` };
  const key = ctx.keyOf(cu);
  if (!key) return { sw: SW.REFERENCED_DATA_NOT_FOUND, reason: 'registered key unreadable' };
  const plain = derToPlain(rapdu.subarray(0, rapdu.length - 2), key.curve.orderBytes);
  if (!plain.ok) return { sw: SW.WRONG_DATA, reason: `signature: ${plain.error.message}` };
  // Checked here first so a wrong signature never reaches the target (Pico clears the key's
  // status on a failed attempt, docs/card-reference.md §6.7).
  const input = buildPkaSignatureInput(deviceChr, fromHex(c.challenge!));
  if (!verifyPlain(key.curve, key.point, input, plain.value, 'sha256')) {
    return {
      sw: SW.WRONG_DATA,
      reason: 'signature does not verify for this target and challenge with the registered key',
    };
  }
  return { plain: plain.value };
}

/**
 * Fails the ceremony when the custodians who have not answered in this epoch can no longer
 * bring the card's count to n (only enrolled custodians receive offers).
 */
function failIfHopeless(ctx: CeremonyContext, c: CeremonyRecord, authenticated: number): void {
  const answered = new Set(ctx.store.ceremonies.approvals(c.id, c.epoch).map((a) => a.custodianId));
  const open = ctx.store.custodians.forTarget(c.target).filter((x) => !answered.has(x.id)).length;
  if (authenticated + open < c.n) {
    try {
      ctx.finish(c.id, 'failed', 'quorum can no longer be reached', 'ceremony-failed');
    } catch (e) {
      // Not stored: the ceremony stays open until it expires; nothing the card holds changed.
      ctx.store.health.failed(`recording ceremony ${c.id} as failed`, e);
    }
  }
}

/**
 * Handles one decision. Protocol-level problems (unknown offer, late, duplicate) get an
 * `error`; a processed decision gets a `result` (approvals) and an `update` to everyone.
 */
export async function handleDecision(
  ctx: CeremonyContext,
  custodianId: string,
  msg: DecisionMessage,
  onQuorum: (ceremonyId: string) => Promise<void>,
): Promise<void> {
  const c0 = ctx.store.ceremonies.get(msg.ceremonyId);
  const cu = ctx.store.custodians.get(custodianId);
  if (!c0 || !cu || c0.target !== cu.target) {
    return sendError(ctx, custodianId, 'unknown-ceremony', 'no such ceremony for you', msg);
  }
  const rt0 = ctx.runtime.get(c0.id);
  if (!rt0 || rt0.offers.get(msg.offerId) !== custodianId) {
    const code = c0.state === 'open' ? 'unknown-offer' : 'offer-expired';
    return sendError(ctx, custodianId, code, 'this offer is not (or no longer) valid', msg);
  }
  // Idempotent per offerId (docs/protocol.md §3.4): the same decision again re-sends the
  // result, a different one is refused. Checked again inside the queue, since a duplicate may
  // arrive while the first is still at the card.
  const key = canonicalJson(msg.decision);
  const replayed = (rt: Runtime): boolean => {
    const earlier = rt.decided.get(msg.offerId);
    if (!earlier) return false;
    if (earlier.decision === key) {
      if (earlier.result) ctx.link.send(custodianId, earlier.result);
    } else {
      sendError(ctx, custodianId, 'already-decided', 'you already answered this offer', msg);
    }
    return true;
  };
  if (replayed(rt0)) return;
  const target = ctx.target(c0.target);
  await target.run(async (card, chain) => {
    // Re-read: the ceremony may have changed while this decision waited for the card.
    const c = ctx.store.ceremonies.get(c0.id);
    const rt = ctx.runtime.get(c0.id);
    if (
      !c ||
      c.state !== 'open' ||
      !rt ||
      rt.suspended !== undefined ||
      rt.offers.get(msg.offerId) !== custodianId
    ) {
      return sendError(ctx, custodianId, 'offer-expired', 'the ceremony is no longer open', msg);
    }
    if (replayed(rt)) return;
    // One time source for expiry (issue 11 item 4): the monotonic deadline the timer uses.
    if (ctx.pastDeadline(c)) {
      return sendError(ctx, custodianId, 'offer-expired', 'the ceremony has expired', msg);
    }
    if (ctx.store.ceremonies.approvals(c.id, c.epoch).some((a) => a.custodianId === custodianId)) {
      return sendError(ctx, custodianId, 'already-decided', 'you already answered this offer', msg);
    }
    const base = { ceremonyId: c.id, custodianId, epoch: c.epoch, time: ctx.now() };
    const d = msg.decision;
    if (d.kind === 'decline') {
      try {
        await ctx.store.durably(() => {
          ctx.store.ceremonies.recordApproval({ ...base, outcome: 'declined', sw: undefined });
          ctx.audit('decline', { ceremonyId: c.id, custodian: cu.name, reason: d.reason });
        });
      } catch (e) {
        ctx.store.health.failed(`recording ${cu.name}'s decline`, e);
        return sendError(ctx, custodianId, 'internal-error', NOT_RECORDED, msg);
      }
      rt.decided.set(msg.offerId, { decision: key, result: undefined });
      ctx.broadcast(c.id, `${cu.name} declined`);
      failIfHopeless(ctx, c, rt.authenticated);
      return;
    }
    // The script has one APDU; a client stops after a blocked step, so never fewer than one.
    if (d.results.length !== 1) {
      return sendError(
        ctx,
        custodianId,
        'results-mismatch',
        'expected one result for the one script APDU',
        msg,
      );
    }
    const sig = signatureFrom(ctx, d.results, c, cu, chain.device.body.chrBytes);
    const auditBase = {
      ceremonyId: c.id,
      custodian: cu.name,
      keyChr: cu.keyChr,
      epoch: c.epoch,
      challenge: c.challenge ?? '',
      ...('plain' in sig ? { signature: toHex(sig.plain) } : {}),
    };
    let sw: number;
    let reason: string | undefined;
    if ('plain' in sig) {
      // 1. Intent, durably, before the irreversible card step (issue 11 item 2).
      try {
        await ctx.store.durably(() => {
          if (!ctx.store.ceremonies.recordIntent(base)) throw new Error('already answered');
          ctx.audit('approval-intent', auditBase);
        });
      } catch (e) {
        ctx.store.health.report(`recording ${cu.name}'s approval intent`, e);
        return sendError(ctx, custodianId, 'internal-error', NOT_RECORDED, msg);
      }
      // 2. The card step. A lost card throws out of the queue: the target service drops the
      //    connection, the ceremony is re-opened and the pending intent resolved as forgotten.
      sw = await presentSignature(card, cu.keyChr, sig.plain);
      if (sw !== SW.OK) reason = `target refused the authentication (${swHex(sw)})`;
      const status = await card.pkaStatus();
      if (status) rt.authenticated = status.authenticated;
    } else {
      sw = sig.sw;
      reason = sig.reason;
    }
    const accepted = sw === SW.OK;
    // 3. The outcome and its audit entry, one transaction (issue 11 item 3). Every store write
    //    here is grouped with the other decisions of this event-loop turn (one fsync,
    //    group-commit.ts) and awaited: the answer leaves only once its record is durable.
    const outcome = { ...base, outcome: accepted ? 'approved' : 'failed', sw: swHex(sw) } as const;
    try {
      await ctx.store.durably(() => {
        if ('plain' in sig) ctx.store.ceremonies.resolveIntent(outcome);
        else ctx.store.ceremonies.recordApproval(outcome);
        ctx.audit(accepted ? 'approval' : 'approval-failed', {
          ...auditBase,
          sw: swHex(sw),
          authenticated: rt.authenticated,
          ...(reason === undefined ? {} : { reason }),
        });
      });
    } catch (e) {
      ctx.store.health.failed(`recording ${cu.name}'s approval outcome`, e);
      if (accepted) {
        // The card counted an approval the record lacks: the card must forget everything of
        // this epoch, so its count and the record can never diverge; the reset re-opens the
        // ceremony with a new challenge (engine.onTargetReset).
        await ctx.target(c.target).resetHeld('admin');
        return sendError(ctx, custodianId, 'internal-error', `${NOT_RECORDED} ${REOPENED}`, msg);
      }
      // A refusal the card did not count: the intent stays pending and is resolved later.
    }
    const result: ResultMessage = {
      v: PROTOCOL_VERSION,
      type: 'result',
      ceremonyId: c.id,
      offerId: msg.offerId,
      outcome: accepted ? 'accepted' : 'refused',
      sw,
      progress: ctx.progress(c),
      ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
    };
    rt.decided.set(msg.offerId, { decision: key, result });
    ctx.link.send(custodianId, result);
    // Closed (expiry, cancel) while the card was answering: the approval is recorded, never
    // thrown away, and the card must not keep an authentication for a closed ceremony.
    if (accepted && ctx.store.ceremonies.get(c.id)?.state !== 'open') {
      await target.resetHeld('admin');
      return;
    }
    ctx.broadcast(c.id, accepted ? `${cu.name} approved` : `${cu.name}: ${reason ?? 'refused'}`);
    if (rt.authenticated >= c.n) await onQuorum(c.id);
    else if (!accepted) failIfHopeless(ctx, c, rt.authenticated);
  });
}
