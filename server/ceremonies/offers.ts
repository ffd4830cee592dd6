/**
 * Building what custodians see: the offer (with the one-APDU script that signs
 * `CHR(T) ‖ challenge` on the custodian card, docs/card-reference.md §6.6 steps 3–4) and progress.
 * @module
 */
import { encodeCommandApdu } from '../../shared/codec/apdu';
import { fromHex, toHex } from '../../shared/codec/bytes';
import { PROTOCOL_VERSION, type OfferMessage, type Progress } from '../../shared/protocol';
import { ALGO } from '../../shared/sc-hsm/constants';
import { buildPkaSignatureInput } from '../../shared/sc-hsm/pka-input';
import { signCommand } from '../../shared/sc-hsm/sign';
import type { CeremonyRecord } from '../store/ceremonies';
import type { Custodian } from '../store/custodians';
import type { DeviceChain } from '../targets/target-service';

/**
 * The custodian-card command of an approval: `80 68 <kid> 73 Lc CHR(T) ‖ challenge 00`
 * (the card hashes with SHA-256). The client's firewall accepts exactly this shape (docs/card-reference.md
 * §12.1), so the server never asks for anything but this one signature.
 */
export function approvalScript(
  keyId: number,
  deviceChr: Uint8Array,
  challenge: Uint8Array,
): string[] {
  const input = buildPkaSignatureInput(deviceChr, challenge);
  const cmd = signCommand(keyId, ALGO.ECDSA_SHA256, input);
  if (!cmd.ok) throw new Error(cmd.error.message);
  const bytes = encodeCommandApdu(cmd.value);
  if (!bytes.ok) throw new Error(bytes.error.message);
  return [toHex(bytes.value)];
}

/** Builds an offer for one custodian. */
export function buildOffer(args: {
  ceremony: CeremonyRecord;
  offerId: string;
  custodian: Custodian & { keyId: number };
  chain: DeviceChain;
  targetLabel: string;
  progress: Progress;
  /** Every custodian of the target: their display names go to the client (docs/protocol.md §5.2). */
  custodians: readonly Pick<Custodian, 'id' | 'name'>[];
}): OfferMessage {
  const { ceremony, custodian, chain } = args;
  if (ceremony.challenge === undefined) throw new Error('ceremony has no challenge');
  const challenge = fromHex(ceremony.challenge);
  return {
    v: PROTOCOL_VERSION,
    type: 'offer',
    ceremonyId: ceremony.id,
    offerId: args.offerId,
    target: { label: args.targetLabel, deviceId: chain.deviceId, chain: toHex(chain.encoded) },
    purpose: ceremony.purpose,
    requester: ceremony.requester,
    quorum: { n: ceremony.n, m: ceremony.m },
    progress: args.progress,
    expiresAt: ceremony.expiresAt,
    requestedAt: ceremony.createdAt,
    custodians: args.custodians.map((c) => ({ name: c.name, you: c.id === custodian.id })),
    challenge: ceremony.challenge,
    key: { chr: custodian.keyChr, keyId: custodian.keyId },
    script: { apdus: approvalScript(custodian.keyId, chain.device.body.chrBytes, challenge) },
  };
}
