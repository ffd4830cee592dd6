/**
 * The offer check of docs/protocol.md §8 with the target chain's verdict supplied by the caller,
 * so the engine can take it from its chain cache (chain-cache.ts) instead of running the ECDSA
 * again. Every other check — expiry against the current time, key, replay, quorum, approval,
 * the script's dry run through a fresh firewall — runs on every call.
 *
 * It mirrors `checkOffer` (shared/policy/offer-check.ts) step for step and returns the same
 * verdict, issues in the same order (test/unit/core/custodian/offer-verify-cache.test.ts checks
 * the two agree on generated offers). `checkOffer` validates the chain itself and has no way to
 * take a verdict; if it gains one, this file can go.
 * @module
 */
import { asciiBytes, fromHex, isHex } from '../../shared/codec/bytes';
import type { ChainVerdict } from '../../shared/cvc/chain';
import { createApduFirewall, type FirewallApproval } from '../../shared/policy/firewall';
import {
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_MAX_OFFER_LIFETIME_MS,
  type OfferCheckContext,
  type OfferIssue,
  type OfferIssueCode,
  type OfferVerdict,
  type ScriptStep,
  type VerifiedTarget,
} from '../../shared/policy/offer-check';
import type { OfferMessage } from '../../shared/protocol/index';

/** The chain's verdict, or `not-hex` when `target.chain` is not (non-empty) hex. */
export type SuppliedChain = ChainVerdict | 'not-hex';

/** True when `checkOffer` would not even validate the chain (not hex, or empty). */
export function chainIsNotHex(offer: OfferMessage): boolean {
  return !isHex(offer.target.chain) || offer.target.chain.length === 0;
}

const SIGN_RULES: ReadonlySet<string> = new Set(['sign-pka-input', 'sign-pka-hash']);

type Add = (code: OfferIssueCode, message: string, apduIndex?: number) => void;

/** `checkOffer` with the chain verdict given (see module doc). */
export function checkOfferWithChain(
  offer: OfferMessage,
  context: OfferCheckContext,
  chain: SuppliedChain,
): OfferVerdict {
  const issues: OfferIssue[] = [];
  const warnings: string[] = [];
  const add: Add = (code, message, apduIndex) =>
    issues.push(apduIndex === undefined ? { code, message } : { code, message, apduIndex });

  // reference §5.3, §12: the target must be a genuine device; its CHR is what gets signed.
  let target: VerifiedTarget | undefined;
  let chrBytes: Uint8Array | undefined;
  if (chain === 'not-hex') {
    add('chain-not-genuine', 'target certificate chain is not hex');
  } else if (!chain.genuine) {
    add('chain-not-genuine', `target is not a genuine SmartCard-HSM: ${chain.message}`);
  } else {
    target = { deviceId: chain.deviceId, path: chain.path, anchor: chain.anchor.label };
    chrBytes = chain.deviceIdBytes;
    warnings.push(...chain.warnings);
    if (chain.deviceId !== offer.target.deviceId) {
      add(
        'device-id-mismatch',
        `offer names target ${offer.target.deviceId}, its certificate chain is ${chain.deviceId}`,
      );
    }
  }

  checkTiming(offer, context, add);

  if (offer.key.chr !== context.ownKey.chr || offer.key.keyId !== context.ownKey.keyId) {
    add(
      'wrong-key',
      `offer asks key ${offer.key.chr} (id ${offer.key.keyId}), this custodian's key is ${context.ownKey.chr} (id ${context.ownKey.keyId})`,
    );
  }
  if (context.decidedOfferIds.has(offer.offerId)) {
    add('replayed', `offer ${offer.offerId} was already decided`);
  }
  if (offer.progress.authenticated >= offer.quorum.n) {
    add(
      'quorum-already-met',
      `quorum ${offer.quorum.n} of ${offer.quorum.m} is already met (${offer.progress.authenticated} authenticated)`,
    );
  }

  const approval = buildApproval(
    offer,
    chrBytes ?? claimedChr(offer.target.deviceId),
    context.ownKey.keyId,
    add,
  );
  const script = approval ? inspectScript(offer, approval, add) : [];

  if (issues.length === 0 && target !== undefined && approval !== undefined) {
    return { acceptable: true, issues: [], warnings, target, approval, script };
  }
  return target === undefined
    ? { acceptable: false, issues, warnings, script }
    : { acceptable: false, issues, warnings, target, script };
}

function checkTiming(offer: OfferMessage, context: OfferCheckContext, add: Add): void {
  const skew = context.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const lifetime = context.maxLifetimeMs ?? DEFAULT_MAX_OFFER_LIFETIME_MS;
  const now = context.now.getTime();
  const expires = Date.parse(offer.expiresAt);
  if (!Number.isFinite(expires) || !Number.isFinite(now)) {
    add('expired', 'offer expiry or local clock is not a valid time');
  } else if (expires + skew <= now) {
    add('expired', `offer expired at ${offer.expiresAt}`);
  } else if (expires > now + lifetime + skew) {
    add('expiry-too-far', `offer stays open until ${offer.expiresAt}, longer than allowed`);
  }
}

function claimedChr(deviceId: string): Uint8Array | undefined {
  try {
    return asciiBytes(deviceId);
  } catch {
    return undefined;
  }
}

function buildApproval(
  offer: OfferMessage,
  chr: Uint8Array | undefined,
  keyId: number,
  add: Add,
): FirewallApproval | undefined {
  if (chr === undefined) return undefined;
  if (!isHex(offer.challenge) || offer.challenge.length === 0) {
    add('invalid-approval', 'challenge is not hex');
    return undefined;
  }
  const approval = {
    ceremonyId: offer.ceremonyId,
    targetDeviceChr: chr,
    challenge: fromHex(offer.challenge),
    keyId,
  };
  try {
    createApduFirewall(approval);
  } catch (e) {
    add('invalid-approval', `cannot build the approval: ${(e as Error).message}`);
    return undefined;
  }
  return approval;
}

/** Runs the script through a throw-away firewall, in order, exactly as the runtime would. */
function inspectScript(offer: OfferMessage, approval: FirewallApproval, add: Add): ScriptStep[] {
  const firewall = createApduFirewall(approval);
  const steps: ScriptStep[] = [];
  offer.script.apdus.forEach((hex, index) => {
    const apdu = isHex(hex) ? fromHex(hex) : new Uint8Array(0);
    const decision = firewall.inspect(apdu);
    steps.push({ apdu, decision });
    if (!decision.allow) {
      add(
        'script-refused',
        `APDU ${index + 1} (${decision.header}) refused: ${decision.reason}`,
        index,
      );
    }
  });
  if (!steps.some((s) => s.decision.allow && SIGN_RULES.has(s.decision.rule))) {
    add('script-without-signature', 'the script contains no approved PKA signature');
  }
  return steps;
}
