/**
 * Local verification of an offer, when it arrives and again right before the card is touched.
 * The decision is `checkOffer` (shared/policy/offer-check.ts, docs/protocol.md §8): genuine
 * target chain, device id = chain CHR, expiry window, own key, quorum still open, script passes
 * a fresh firewall and contains the one approved signature. This module adds what the custodian
 * is shown (trust anchor and whether it is a TEST anchor, chain path) and a rejection code for
 * the audit log and the decline reason. With a chain cache (the engine always has one) the target
 * chain's ECDSA runs once per chain and anchor set and the other checks run on every call
 * (`checkOffer` takes the cache as its chain validator); the re-check before the card
 * re-evaluates all but the signature math.
 * @module
 */
import { validateDeviceChain, type ChainVerdict, type TrustAnchor } from '../../shared/cvc/chain';
import type { FirewallDecision } from '../../shared/policy/firewall';
import {
  checkOffer,
  type OfferCheckContext,
  type OfferIssue,
  type OfferVerdict,
} from '../../shared/policy/offer-check';
import type { OfferMessage } from '../../shared/protocol/index';
import { err, ok, type Result } from '../../shared/result';
import type { ChainCache } from './chain-cache';

/** The custodian's own PKA key, as registered at targets. */
export type OwnKey = { readonly keyId: number; readonly chr?: string };

/** What the custodian sees and approves: the offer plus what this client established itself. */
export type VerifiedOffer = {
  readonly offer: OfferMessage;
  /** Device id (CHR of the device certificate) taken from the validated chain. */
  readonly deviceId: string;
  readonly deviceIdBytes: Uint8Array;
  /** The trust anchor the chain leads to. */
  readonly anchor: {
    readonly label: string;
    readonly chr: string;
    readonly source: string;
    readonly test: boolean;
  };
  /** `/SRCA/DICA/device` holder path (docs/card-reference.md §5.1). */
  readonly chainPath: string;
  readonly chainWarnings: readonly string[];
  readonly challenge: Uint8Array;
  readonly script: readonly Uint8Array[];
  readonly expiresAt: Date;
};

/** Why an offer was rejected. Maps to the decline reason sent to the server. */
export type OfferRejection = {
  readonly code:
    | 'chain-invalid'
    | 'untrusted-anchor'
    | 'device-mismatch'
    | 'expired'
    | 'expiry-too-far'
    | 'wrong-key'
    | 'quorum-met'
    | 'script-refused'
    | 'replayed'
    | 'busy'
    | 'malformed';
  readonly message: string;
  /** For `script-refused`: the denied steps of the dry run. */
  readonly blocked?: readonly { readonly index: number; readonly decision: FirewallDecision }[];
};

/** Context of a verification. */
export type VerifyContext = {
  readonly anchors: readonly TrustAnchor[];
  readonly ownKey: OwnKey;
  /** Current time as this client trusts it. */
  readonly now: Date;
  /**
   * Where validated device chains are remembered (chain-cache.ts): the chain's ECDSA then runs
   * once per chain and anchor set, everything else on every call. Without it the chain is
   * validated by `checkOffer` and again here, as before.
   */
  readonly chainCache?: ChainCache;
};

/** True for anchors that are not the built-in production root: their chains prove nothing about genuine hardware. */
export function isTestAnchor(anchor: TrustAnchor): boolean {
  return anchor.source !== 'built-in';
}

const CODE: Record<OfferIssue['code'], OfferRejection['code']> = {
  'chain-not-genuine': 'chain-invalid',
  'device-id-mismatch': 'device-mismatch',
  expired: 'expired',
  'expiry-too-far': 'expiry-too-far',
  'wrong-key': 'wrong-key',
  replayed: 'replayed',
  'quorum-already-met': 'quorum-met',
  'invalid-approval': 'malformed',
  'script-refused': 'script-refused',
  'script-without-signature': 'script-refused',
};

/** Verifies an offer (see module doc). Never throws. */
export function verifyOffer(
  offer: OfferMessage,
  ctx: VerifyContext,
): Result<VerifiedOffer, OfferRejection> {
  // Without a configured CHR the offer's is used; the card part then checks the card's key has it.
  const ownKey = { keyId: ctx.ownKey.keyId, chr: ctx.ownKey.chr ?? offer.key.chr };
  const checkContext: OfferCheckContext = {
    anchors: ctx.anchors,
    now: ctx.now,
    ownKey,
    // Replays are caught by the offer book before this check (docs/protocol.md §3.4).
    decidedOfferIds: new Set(),
  };
  const cache = ctx.chainCache;
  const { verdict, chain } = checkOnce(
    offer,
    checkContext,
    cache ? (b, a, n) => cache.validate(b, a, n) : validateDeviceChain,
  );
  if (!verdict.acceptable || !chain.genuine) {
    const first = verdict.issues[0];
    let code: OfferRejection['code'] = first ? CODE[first.code] : 'chain-invalid';
    if (!chain.genuine && chain.code === 'unknown-root') code = 'untrusted-anchor';
    const message = verdict.issues.map((i) => i.message).join('; ') || 'target chain rejected';
    const blocked = verdict.script.flatMap((s, index) =>
      s.decision.allow ? [] : [{ index, decision: s.decision }],
    );
    return err(blocked.length > 0 ? { code, message, blocked } : { code, message });
  }
  const anchor = chain.anchor;
  return ok({
    offer,
    deviceId: chain.deviceId,
    deviceIdBytes: chain.deviceIdBytes,
    anchor: {
      label: anchor.label,
      chr: anchor.cvc.body.chr,
      source: anchor.source,
      test: isTestAnchor(anchor),
    },
    chainPath: chain.path,
    chainWarnings: chain.warnings,
    challenge: verdict.approval.challenge,
    script: verdict.script.map((s) => s.apdu),
    expiresAt: new Date(offer.expiresAt),
  });
}

/**
 * The offer check with the chain validated once: `checkOffer` gets the validator (the cache, or
 * plain `validateDeviceChain`) and we keep the verdict it produced for the rest of verifyOffer.
 */
function checkOnce(
  offer: OfferMessage,
  context: OfferCheckContext,
  validate: NonNullable<OfferCheckContext['validateChain']>,
): { verdict: OfferVerdict; chain: ChainVerdict } {
  let seen: ChainVerdict | undefined;
  const verdict = checkOffer(offer, {
    ...context,
    validateChain: (bytes, anchors, now) => (seen = validate(bytes, anchors, now)),
  });
  // checkOffer skips validation of an empty or non-hex chain (refused as malformed).
  const chain = seen ?? validateDeviceChain(new Uint8Array(0), context.anchors, context.now);
  return { verdict, chain };
}
