/**
 * Local verification of an offer before it is shown as approvable and again right before the
 * card is touched: the target chain must lead to a trust anchor and name the offered device,
 * the offer must not be expired, it must ask for the custodian's own registered key, and a dry
 * run of its script through a fresh firewall must not hit a deny rule (reference §12,
 * remote-protocols §4.3 items 1–3). Pure: the clock and anchors are parameters.
 * @module
 */
import { fromHex } from '../../shared/codec/bytes';
import { validateDeviceChain, type TrustAnchor } from '../../shared/cvc/chain';
import { createApduFirewall, type FirewallDecision } from '../../shared/policy/firewall';
import type { OfferMessage } from '../../shared/protocol/index';
import { err, ok, type Result } from '../../shared/result';

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
  /** `/SRCA/DICA/device` holder path (reference §5.1). */
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
    | 'wrong-key'
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
};

const PRODUCTION_SOURCE = 'built-in';

/** True for anchors that are not the production root: their chains prove nothing about genuine hardware. */
export function isTestAnchor(anchor: TrustAnchor): boolean {
  return anchor.source !== PRODUCTION_SOURCE;
}

const reject = (
  code: OfferRejection['code'],
  message: string,
): Result<VerifiedOffer, OfferRejection> => err({ code, message });

/** Verifies an offer (see module doc). Never throws. */
export function verifyOffer(
  offer: OfferMessage,
  ctx: VerifyContext,
): Result<VerifiedOffer, OfferRejection> {
  let chainBytes: Uint8Array;
  let challenge: Uint8Array;
  let script: Uint8Array[];
  try {
    chainBytes = fromHex(offer.target.chain);
    challenge = fromHex(offer.challenge);
    script = offer.script.apdus.map((h) => fromHex(h));
  } catch {
    return reject('malformed', 'offer carries invalid hex');
  }
  const expiresAt = new Date(offer.expiresAt);
  if (!Number.isFinite(expiresAt.getTime()))
    return reject('malformed', 'offer expiry is not a time');
  if (expiresAt.getTime() <= ctx.now.getTime()) {
    return reject('expired', `offer expired at ${offer.expiresAt}`);
  }
  // reference §5.3: the chain must validate against a configured anchor.
  const verdict = validateDeviceChain(chainBytes, ctx.anchors, ctx.now);
  if (!verdict.genuine) {
    const code = verdict.code === 'unknown-root' ? 'untrusted-anchor' : 'chain-invalid';
    return reject(code, `target chain rejected: ${verdict.message}`);
  }
  // reference §6.6 step 3: the signed input names the device of the validated chain; the
  // server's text must not be able to show another name.
  if (verdict.deviceId !== offer.target.deviceId) {
    return reject(
      'device-mismatch',
      `offer names target ${offer.target.deviceId}, but its chain is for ${verdict.deviceId}`,
    );
  }
  if (
    offer.key.keyId !== ctx.ownKey.keyId ||
    (ctx.ownKey.chr !== undefined && offer.key.chr !== ctx.ownKey.chr)
  ) {
    return reject(
      'wrong-key',
      `offer asks for key ${offer.key.keyId} (${offer.key.chr}); this custodian's key is ${ctx.ownKey.keyId}${ctx.ownKey.chr ? ` (${ctx.ownKey.chr})` : ''}`,
    );
  }
  let firewall;
  try {
    firewall = createApduFirewall({
      ceremonyId: offer.ceremonyId,
      targetDeviceChr: verdict.deviceIdBytes,
      challenge,
      keyId: ctx.ownKey.keyId,
    });
  } catch (e) {
    return reject('malformed', `offer cannot be approved: ${(e as Error).message}`);
  }
  // A dry run on a fresh firewall: a script the firewall would cut short is refused as a whole.
  const blocked = script.flatMap((apdu, index) => {
    const decision = firewall.inspect(apdu);
    return decision.allow ? [] : [{ index, decision }];
  });
  if (blocked.length > 0) {
    const first = blocked[0]!.decision;
    const why = first.allow ? '' : `${first.header}: ${first.reason}`;
    return err({
      code: 'script-refused',
      message: `script contains ${blocked.length} command(s) the firewall refuses (first: ${why})`,
      blocked,
    });
  }
  const anchor = verdict.anchor;
  return ok({
    offer,
    deviceId: verdict.deviceId,
    deviceIdBytes: verdict.deviceIdBytes,
    anchor: {
      label: anchor.label,
      chr: anchor.cvc.body.chr,
      source: anchor.source,
      test: isTestAnchor(anchor),
    },
    chainPath: verdict.path,
    chainWarnings: verdict.warnings,
    challenge,
    script,
    expiresAt,
  });
}
