/**
 * Checks an offer before it is shown to the custodian: is the target a genuine SmartCard-HSM,
 * is the offer current, is it for this custodian's key, has it been decided before, and would
 * the firewall let its script run? Pure: the caller passes the clock and the decided offers.
 * @module
 */
import { fromHex, isHex, asciiBytes } from '../codec/bytes';
import { validateDeviceChain, type ChainVerdict, type TrustAnchor } from '../cvc/chain';
import type { OfferMessage } from '../protocol/server-messages';
import { PKA_CHALLENGE_BYTES } from '../sc-hsm/pka-input';
import { createApduFirewall, type FirewallApproval, type FirewallDecision } from './firewall';
import { messageOf } from '../error-message';

/** Default tolerance for clock differences between client and server. */
export const DEFAULT_CLOCK_SKEW_MS = 2 * 60_000;
/** Default longest time an offer may stay open (docs/card-reference.md §14.3: bind to an expiring request). */
export const DEFAULT_MAX_OFFER_LIFETIME_MS = 60 * 60_000;

/** What the check needs besides the offer. */
export type OfferCheckContext = {
  /** Trusted scheme roots for the target's EF 2F02 (docs/card-reference.md §5.3). */
  readonly anchors: readonly TrustAnchor[];
  /** The current time (ideally corrected by the offset to `welcome.serverTime`). */
  readonly now: Date;
  /** The custodian's own PKA key: CHR and key id on the custodian card. */
  readonly ownKey: { readonly chr: string; readonly keyId: number };
  /** Offer ids this custodian already approved or declined (replay protection). */
  readonly decidedOfferIds: ReadonlySet<string>;
  /** Clock skew tolerance (default {@link DEFAULT_CLOCK_SKEW_MS}). */
  readonly clockSkewMs?: number;
  /** Longest accepted offer lifetime from now (default {@link DEFAULT_MAX_OFFER_LIFETIME_MS}). */
  readonly maxLifetimeMs?: number;
  /**
   * Validates the target's EF 2F02 (default `validateDeviceChain`). The engine passes a cache
   * of genuine verdicts so the signature math runs once per chain; it must return exactly what
   * `validateDeviceChain` would for the same inputs.
   */
  readonly validateChain?: (
    ef2f02: Uint8Array,
    anchors: readonly TrustAnchor[],
    now: Date,
  ) => ChainVerdict;
};

/** Why an offer must not be approved. */
export type OfferIssueCode =
  | 'chain-not-genuine'
  | 'device-id-mismatch'
  | 'expired'
  | 'expiry-too-far'
  | 'wrong-key'
  | 'replayed'
  | 'quorum-already-met'
  | 'invalid-approval'
  | 'script-refused'
  | 'script-without-signature';

/** One reason an offer is refused. */
export type OfferIssue = {
  readonly code: OfferIssueCode;
  readonly message: string;
  /** For `script-refused`: index of the APDU in `script.apdus`. */
  readonly apduIndex?: number;
};

/** The firewall's pre-inspection of one script APDU. */
export type ScriptStep = { readonly apdu: Uint8Array; readonly decision: FirewallDecision };

/** The verified target identity (present when the chain is genuine). */
export type VerifiedTarget = {
  /** Device CHR from the validated chain (not the server's claim). */
  readonly deviceId: string;
  /** `/SRCA/DICA/device` holder path (docs/card-reference.md §5.1). */
  readonly path: string;
  /** Label of the trust anchor the chain ends in. */
  readonly anchor: string;
};

/** Result of {@link checkOffer}: every issue found, never only the first. */
export type OfferVerdict =
  | {
      readonly acceptable: true;
      readonly issues: readonly [];
      readonly warnings: readonly string[];
      readonly target: VerifiedTarget;
      /** Build the runtime firewall from this (a fresh one: pre-inspection spent its budget). */
      readonly approval: FirewallApproval;
      readonly script: readonly ScriptStep[];
    }
  | {
      readonly acceptable: false;
      readonly issues: readonly OfferIssue[];
      readonly warnings: readonly string[];
      readonly target?: VerifiedTarget;
      readonly script: readonly ScriptStep[];
    };

const SIGN_RULES: ReadonlySet<string> = new Set(['sign-pka-input', 'sign-pka-hash']);

/**
 * Checks an offer (already validated by `parseServerMessage`). The target CHR used for the
 * firewall comes from the validated chain, never from `target.deviceId`; when the chain is not
 * genuine the script is still pre-inspected against the claimed CHR so every reason is shown.
 */
export function checkOffer(offer: OfferMessage, context: OfferCheckContext): OfferVerdict {
  const issues: OfferIssue[] = [];
  const warnings: string[] = [];
  const add = (code: OfferIssueCode, message: string, apduIndex?: number) =>
    issues.push(apduIndex === undefined ? { code, message } : { code, message, apduIndex });

  // docs/card-reference.md §5.3, §12: the target must be a genuine device; its CHR is what gets signed.
  let target: VerifiedTarget | undefined;
  let chrBytes: Uint8Array | undefined;
  if (!isHex(offer.target.chain) || offer.target.chain.length === 0) {
    add('chain-not-genuine', 'target certificate chain is not hex');
  } else {
    const validate = context.validateChain ?? validateDeviceChain;
    const chain = validate(fromHex(offer.target.chain), context.anchors, context.now);
    if (!chain.genuine) {
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

type Add = (code: OfferIssueCode, message: string, apduIndex?: number) => void;

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
  // One challenge length only, or CHR(T) ‖ challenge could name another device (pka-input.ts).
  if (offer.challenge.length !== 2 * PKA_CHALLENGE_BYTES) {
    add(
      'invalid-approval',
      `challenge is ${offer.challenge.length / 2} bytes; a target's challenge is exactly ${PKA_CHALLENGE_BYTES}`,
    );
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
    add('invalid-approval', `cannot build the approval: ${messageOf(e)}`);
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
