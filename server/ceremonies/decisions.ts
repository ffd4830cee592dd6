/**
 * A custodian's decision on an offer. Approval: the signature comes from the custodian card's
 * R-APDU (DER), is converted to plain r‖s (docs/card-reference.md §6.6 step 5) and checked
 * against the registered key, then presented to the target with MSE SET AT + EXTERNAL
 * AUTHENTICATE (steps 1 and 6). A custodian answers once per epoch.
 *
 * The target's queue is the critical path of a ceremony (issue 12 §2): everything that needs
 * no card runs before it — the signature check, and the durable approval intent (intent, card,
 * outcome: server/README.md "Intent before every card step") — so nothing is written between
 * entering the queue and the card command. The count follows the card: a 9000 counts one, and
 * the card's own status (`80 54`, docs/card-reference.md §6.4) is read where it decides
 * something: when quorum is expected, and whenever the answer is ambiguous (any other status
 * word, an unreadable answer), so an approval is recorded as counted exactly when the card
 * counted it.
 * @module
 */
import type { SmartCardHsm } from '../../core/sc-hsm/sc-hsm-session';
import { canonicalJson } from '../../shared/audit/audit-chain';
import { asciiBytes, fromHex } from '../../shared/codec/bytes';
import { derToPlain } from '../../shared/crypto/ecdsa';
import { swHex, SW } from '../../shared/card/status-words';
import {
  PROTOCOL_VERSION,
  type DecisionMessage,
  type ErrorCode,
  type ScriptResult,
} from '../../shared/protocol';
import { messageOf } from '../../shared/error-message';
import { buildPkaSignatureInput } from '../../shared/sc-hsm/pka-input';
import { verifyPlainNode } from '../../core/crypto/verify-ecdsa';
import type { CeremonyRecord } from '../store/ceremonies';
import { presentAndCount } from './approval-count';
import type { CeremonyContext } from './context';
import {
  dropIntent,
  NOT_RECORDED,
  recordDecline,
  recordIntent,
  recordOutcome,
  recordRefusal,
  REOPENED,
  sendError,
  sendResult,
  type Decision,
  type Refusal,
} from './decision-records';

/**
 * Idempotent per offerId (docs/protocol.md §3.4): the same decision again re-sends the
 * result, a different one is refused. True when the decision was answered here.
 */
function replayed(d: Decision): boolean {
  const earlier = d.ctx.decided(d.msg.ceremonyId, d.msg.offerId);
  if (!earlier) return false;
  if (earlier.decision === d.key) {
    if (earlier.result) d.ctx.link.send(d.cu.id, earlier.result);
  } else {
    sendError(d, 'already-decided', 'you already answered this offer');
  }
  return true;
}

/**
 * The ceremony as it is now, when the decision can still be taken in `epoch`; otherwise the
 * custodian is told why and undefined returned. `ownIntent`: the custodian's pending intent
 * of this epoch is this decision's own, not an earlier answer.
 */
function stillOpen(
  d: Decision,
  epoch: number,
  ownIntent: boolean,
  refuse: (code: ErrorCode, message: string) => void = (code, message) =>
    sendError(d, code, message),
): CeremonyRecord | undefined {
  const { ctx, msg, cu } = d;
  const c = ctx.store.ceremonies.get(msg.ceremonyId);
  if (
    !c ||
    c.state !== 'open' ||
    c.epoch !== epoch ||
    ctx.isSuspended(c.id) ||
    !ctx.offerIsCurrent(c.id, msg.offerId, cu.id)
  ) {
    refuse('offer-expired', 'the ceremony is no longer open');
    return undefined;
  }
  if (replayed(d)) return undefined;
  // One time source for expiry (issue 11 item 4): the monotonic deadline the timer uses.
  if (ctx.pastDeadline(c)) {
    refuse('offer-expired', 'the ceremony has expired');
    return undefined;
  }
  if (!ownIntent && ctx.hasAnswered(c, cu.id)) {
    refuse('already-decided', 'you already answered this offer');
    return undefined;
  }
  return c;
}

/** Extracts and checks the plain signature from the script results; a refusal names why. */
function signatureFrom(
  d: Decision,
  results: readonly ScriptResult[],
  c: CeremonyRecord,
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
  const key = d.ctx.keyOf(d.cu);
  if (!key) return { sw: SW.REFERENCED_DATA_NOT_FOUND, reason: 'registered key unreadable' };
  const plain = derToPlain(rapdu.subarray(0, rapdu.length - 2), key.curve.orderBytes);
  if (!plain.ok) return { sw: SW.WRONG_DATA, reason: `signature: ${plain.error.message}` };
  // Checked here, before the queue, so a wrong signature never reaches the target (Pico clears
  // the key's status on a failed attempt, docs/card-reference.md §6.7).
  const input = buildPkaSignatureInput(deviceChr, fromHex(c.challenge!));
  if (!verifyPlainNode(key.curve, key.point, input, plain.value, 'sha256')) {
    return {
      sw: SW.WRONG_DATA,
      reason: 'signature does not verify for this target and challenge with the registered key',
    };
  }
  return { plain: plain.value };
}

/**
 * Inside the target's queue: re-check, present, count, record the outcome, answer. Returns the
 * progress message to broadcast after the queue, if any is left to send.
 */
async function atTarget(
  d: Decision,
  epoch: number,
  plain: Uint8Array,
  card: SmartCardHsm,
  onQuorum: (ceremonyId: string) => Promise<void>,
): Promise<string | undefined> {
  const { ctx, cu } = d;
  // Only reads here: nothing is written between entering the queue and the card command.
  let refusal: [ErrorCode, string] | undefined;
  const c = stillOpen(d, epoch, true, (code, message) => {
    refusal = [code, message];
  });
  if (!c) {
    const now = ctx.store.ceremonies.get(d.msg.ceremonyId);
    if (now) await dropIntent(d, { ...now, epoch }, plain, 'the ceremony changed first');
    // The answer leaves once the intent's resolution is stored (group commit).
    if (refusal) sendError(d, ...refusal);
    return undefined;
  }
  const target = ctx.target(c.target);
  const count = await presentAndCount(card, cu.keyChr, plain, ctx.authenticated(c.id), c.n);
  if (count === undefined) {
    // The card's count is unknown: it must forget everything of this epoch; the reset
    // re-opens the ceremony and resolves the intent as forgotten (engine.onTargetReset).
    await target.resetHeld('admin');
    sendError(d, 'internal-error', `the target's answer could not be read. ${REOPENED}`);
    return undefined;
  }
  ctx.setAuthenticated(c.id, count.authenticated);
  if (!(await recordOutcome(d, c, plain, count))) {
    if (count.counted) {
      // The card counted an approval the record lacks: the card must forget everything of
      // this epoch, so its count and the record can never diverge; the reset re-opens the
      // ceremony with a new challenge (engine.onTargetReset).
      await target.resetHeld('admin');
      sendError(d, 'internal-error', `${NOT_RECORDED} ${REOPENED}`);
    }
    // A refusal the card did not count: the intent stays pending and is resolved later.
    return undefined;
  }
  sendResult(d, c, count.counted, count.sw, count.reason);
  // Closed (expiry, cancel) while the card was answering: the approval is recorded, never
  // thrown away, and the card must not keep an authentication for a closed ceremony.
  if (count.counted && ctx.store.ceremonies.get(c.id)?.state !== 'open') {
    await target.resetHeld('admin');
    return undefined;
  }
  const message = count.counted
    ? `${cu.name} approved`
    : `${cu.name}: ${count.reason ?? 'refused'}`;
  if (count.authenticated >= c.n) {
    ctx.broadcast(c.id, message);
    await onQuorum(c.id);
    return undefined;
  }
  if (!count.counted) {
    ctx.broadcast(c.id, message);
    ctx.failIfHopeless(c);
    return undefined;
  }
  return message;
}

/** An approval: checked and its intent recorded before the queue, then the card step. */
async function approve(
  d: Decision,
  c: CeremonyRecord,
  results: readonly ScriptResult[],
  onQuorum: (ceremonyId: string) => Promise<void>,
): Promise<void> {
  // The script has one APDU; a client stops after a blocked step, so never fewer than one.
  if (results.length !== 1) {
    return sendError(d, 'results-mismatch', 'expected one result for the one script APDU');
  }
  const target = d.ctx.target(c.target);
  // The ceremony's device (its CHR); the queue refuses a card that is another device.
  const deviceChr = target.chain?.device.body.chrBytes ?? asciiBytes(c.deviceId);
  const sig = signatureFrom(d, results, c, deviceChr);
  if (!('plain' in sig)) return recordRefusal(d, c, sig);
  if (!(await recordIntent(d, c, sig.plain))) return;
  let entered = false;
  let progress: string | undefined;
  try {
    progress = await target.run((card) => {
      entered = true;
      return atTarget(d, c.epoch, sig.plain, card, onQuorum);
    });
  } catch (e) {
    // The target could not be reached: the signature never got to the card.
    if (!entered) await dropIntent(d, c, sig.plain, `the target is unavailable (${messageOf(e)})`);
    throw e;
  }
  if (progress !== undefined) d.ctx.broadcast(c.id, progress);
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
    ctx.link.send(custodianId, {
      v: PROTOCOL_VERSION,
      type: 'error',
      code: 'unknown-ceremony',
      message: 'no such ceremony for you',
      ceremonyId: msg.ceremonyId,
      offerId: msg.offerId,
    });
    return;
  }
  const d: Decision = { ctx, cu, msg, key: canonicalJson(msg.decision) };
  if (!ctx.offerIsCurrent(c0.id, msg.offerId, custodianId)) {
    const code = c0.state === 'open' ? 'unknown-offer' : 'offer-expired';
    return sendError(d, code, 'this offer is not (or no longer) valid');
  }
  if (replayed(d)) return;
  // One decision per offer at a time: a duplicate waits for the first and is then answered
  // from it (re-sent result, or already-decided).
  await ctx.oneAtATime(msg.offerId, async () => {
    const c = stillOpen(d, c0.epoch, false);
    if (!c) return;
    const decision = msg.decision;
    if (decision.kind === 'decline') {
      // In the queue: a decline is ordered with the approvals the card is counting.
      return ctx.target(c.target).run(async () => {
        const now = stillOpen(d, c.epoch, false);
        if (now) await recordDecline(d, now, decision.reason);
      });
    }
    return approve(d, c, decision.results, onQuorum);
  });
}
