/**
 * The custodian APDU firewall: every command APDU a server asks the custodian's own card to run
 * passes {@link ApduFirewall.inspect} first. Allowlist per docs/card-reference.md §12.1 adapted to our flow
 * (the PIN is verified locally before the script runs); everything else is denied with its
 * §12.2 reason and never reaches the card. Pure and synchronous: no I/O, no clock.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, toHex } from '../codec/bytes';
import { decodeCommandApdu, describeHeader, type DecodedCommandApdu } from '../codec/apdu';
import { CLA, INS, PIN_REF, FID, PREFIX, ALGO } from '../sc-hsm/constants';
import { buildPkaSignatureInput } from '../sc-hsm/pka-input';
import { FIREWALL_DENY_SW, type FirewallRuleId } from './firewall-rules';
import { denyByInstruction, describeClass, hexByte, type Deny } from './firewall-deny';

/** What the custodian approved: the only signature the firewall will let through. */
export type FirewallApproval = {
  /** The ceremony this approval belongs to (for the audit trail). */
  readonly ceremonyId: string;
  /** Raw CHR (`5F20`) of the target's device certificate, from the validated EF 2F02 chain. */
  readonly targetDeviceChr: Uint8Array;
  /** The target's challenge the custodian signs (docs/card-reference.md §6.6 step 2). */
  readonly challenge: Uint8Array;
  /** Key id (1–255) of the custodian's PKA key on the custodian card. */
  readonly keyId: number;
};

/** The firewall's answer for one APDU. Denied APDUs must not be sent to the card. */
export type FirewallDecision =
  | { readonly allow: true; readonly rule: FirewallRuleId; readonly header: string }
  | {
      readonly allow: false;
      readonly sw: number;
      readonly rule: FirewallRuleId;
      readonly reason: string;
      readonly header: string;
    };

/** A firewall bound to one approval. */
export type ApduFirewall = {
  /** Decides whether `apdu` may be sent to the card; an allowed SIGN spends the budget. */
  inspect(apdu: Uint8Array): FirewallDecision;
  /** Signatures allowed so far (0 or 1). */
  readonly signaturesUsed: number;
  /** The ceremony of the approval. */
  readonly ceremonyId: string;
};

/** Signatures one approval may produce (docs/card-reference.md §12.1: one signature per approval). */
const SIGNATURE_BUDGET = 1;

type Context = {
  readonly keyId: number;
  readonly chr: Uint8Array;
  readonly input: Uint8Array;
  readonly digest: Uint8Array;
  readonly used: number;
};

/**
 * Creates the firewall for one approval. The approval is copied, so later changes to the
 * caller's arrays do not change the policy.
 *
 * @throws Error when the approval itself is invalid (empty ceremony id, key id outside 1–255 —
 *   id 0 is the device authentication key, docs/card-reference.md §2.2 — or a CHR/challenge that
 *   {@link buildPkaSignatureInput} rejects). This is a programming error, not untrusted input.
 */
export function createApduFirewall(approval: FirewallApproval): ApduFirewall {
  const { ceremonyId, keyId } = approval;
  if (typeof ceremonyId !== 'string' || ceremonyId.length === 0) {
    throw new Error('firewall approval needs a ceremony id');
  }
  if (!Number.isInteger(keyId) || keyId < 1 || keyId > 0xff) {
    throw new Error(`firewall approval key id must be 1–255, got ${String(keyId)}`);
  }
  if (
    !(approval.targetDeviceChr instanceof Uint8Array) ||
    !(approval.challenge instanceof Uint8Array)
  ) {
    throw new Error('firewall approval needs byte arrays for CHR and challenge');
  }
  const chr = Uint8Array.from(approval.targetDeviceChr);
  const input = buildPkaSignatureInput(chr, Uint8Array.from(approval.challenge));
  const digest = sha256(input);
  let used = 0;
  return {
    ceremonyId,
    get signaturesUsed() {
      return used;
    },
    inspect(apdu: Uint8Array): FirewallDecision {
      const decision = classify(apdu, { keyId, chr, input, digest, used });
      if (
        decision.allow &&
        (decision.rule === 'sign-pka-input' || decision.rule === 'sign-pka-hash')
      ) {
        used += 1;
      }
      return decision;
    },
  };
}

function headerOf(apdu: Uint8Array): string {
  if (apdu.length >= 4)
    return describeHeader({ cla: apdu[0]!, ins: apdu[1]!, p1: apdu[2]!, p2: apdu[3]! });
  return Array.from(apdu, hexByte).join(' ');
}

function deny(header: string, rule: FirewallRuleId, reason: string): FirewallDecision {
  return { allow: false, sw: FIREWALL_DENY_SW, rule, reason, header };
}

function classify(raw: unknown, ctx: Context): FirewallDecision {
  if (!(raw instanceof Uint8Array)) return deny('', 'malformed', 'not a byte array');
  const header = headerOf(raw);
  const decoded = decodeCommandApdu(raw);
  if (!decoded.ok) return deny(header, 'malformed', `malformed APDU: ${decoded.error.message}`);
  const cmd = decoded.value;
  const allow = (rule: FirewallRuleId): FirewallDecision => ({ allow: true, rule, header });
  const no = (rule: FirewallRuleId, reason: string): FirewallDecision => deny(header, rule, reason);

  // docs/card-reference.md §8.2, §12.1: plain CLA only; SM would hide the data the SIGN check relies on.
  if (cmd.cla !== CLA.ISO && cmd.cla !== CLA.PROPRIETARY) {
    return no('class-not-allowed', describeClass(cmd.cla));
  }
  const needClass = (want: number): FirewallDecision | undefined =>
    cmd.cla === want
      ? undefined
      : no('class-not-allowed', `instruction ${hexByte(cmd.ins)} requires CLA ${hexByte(want)}`);

  switch (cmd.ins) {
    case INS.SELECT:
      return no('select', 'SELECT would log the card out or open another applet');
    case INS.VERIFY:
      return verify(cmd, allow, no, needClass);
    case INS.READ_BINARY_ODD:
      return readBinary(cmd, allow, no, needClass);
    case INS.ENUMERATE_OBJECTS:
      return (
        needClass(CLA.PROPRIETARY) ??
        (cmd.p1 === 0 && cmd.p2 === 0 && cmd.data.length === 0
          ? allow('enumerate-objects')
          : no('bad-form', 'ENUMERATE OBJECTS only as 80 58 00 00 without data'))
      );
    case INS.GET_CHALLENGE:
      return (
        needClass(CLA.ISO) ??
        (cmd.p1 === 0 && cmd.p2 === 0 && cmd.data.length === 0
          ? allow('get-challenge')
          : no('bad-form', 'GET CHALLENGE only as 00 84 00 00 without data'))
      );
    case INS.SIGN:
      return sign(cmd, ctx, allow, no, needClass);
    default:
      return denyByInstruction(cmd.ins, no);
  }
}

type Allow = (rule: FirewallRuleId) => FirewallDecision;
type NeedClass = (want: number) => FirewallDecision | undefined;

/** docs/card-reference.md §3.1, §12.1/§12.2: only the status query of the user PIN. */
function verify(
  cmd: DecodedCommandApdu,
  allow: Allow,
  no: Deny,
  needClass: NeedClass,
): FirewallDecision {
  if (cmd.data.length > 0) return no('verify-with-data', 'VERIFY with PIN data from the network');
  if (cmd.p1 === 0x01) return no('verify-keep-session', 'VERIFY P1=01 would keep the session open');
  if (cmd.p1 !== 0x00 || cmd.p2 !== PIN_REF.USER) {
    return no('verify-other', `VERIFY of reference ${hexByte(cmd.p1)} ${hexByte(cmd.p2)}`);
  }
  return (
    needClass(CLA.ISO) ??
    (cmd.case === 1 ? allow('verify-status') : no('bad-form', 'PIN status query must have no Le'))
  );
}

/** FID prefixes whose objects are public (docs/card-reference.md §2.2, §12.1). */
const PUBLIC_PREFIXES: ReadonlySet<number> = new Set([
  PREFIX.EE_CERT,
  PREFIX.PRKD,
  PREFIX.CD,
  PREFIX.CA_CERT,
]);

/** True for the file ids the allowlist may read: EF 2F02 and CExx, C4xx, C8xx, CAxx. */
export function isPublicFileId(fid: number): boolean {
  return fid === FID.DEVICE_CERTIFICATES || PUBLIC_PREFIXES.has(fid >> 8);
}

/** docs/card-reference.md §8.1: `00 B1 <FID> 54 02 <offset> Le` on public objects only. */
function readBinary(
  cmd: DecodedCommandApdu,
  allow: Allow,
  no: Deny,
  needClass: NeedClass,
): FirewallDecision {
  const fid = (cmd.p1 << 8) | cmd.p2;
  if (!isPublicFileId(fid)) {
    return no(
      'read-private-object',
      `file ${hexByte(cmd.p1)}${hexByte(cmd.p2)} is not a public object`,
    );
  }
  const d = cmd.data;
  const offsetTlv = d.length === 4 && d[0] === 0x54 && d[1] === 0x02;
  return (
    needClass(CLA.ISO) ??
    (offsetTlv && cmd.ne !== undefined
      ? allow('read-public-object')
      : no('bad-form', 'READ BINARY needs exactly the offset TLV 54 02 and an Le'))
  );
}

/** docs/card-reference.md §6.6, §12.1, §12.3: one signature, approved key, exactly the approved input. */
function sign(
  cmd: DecodedCommandApdu,
  ctx: Context,
  allow: Allow,
  no: Deny,
  needClass: NeedClass,
): FirewallDecision {
  const wrongClass = needClass(CLA.PROPRIETARY);
  if (wrongClass) return wrongClass;
  if (cmd.p1 !== ctx.keyId) {
    return no('sign-other-key', `SIGN with key ${cmd.p1}, approved key is ${ctx.keyId}`);
  }
  if (cmd.p2 !== ALGO.ECDSA_SHA256 && cmd.p2 !== ALGO.ECDSA_PREHASHED) {
    return no('sign-other-algorithm', `SIGN algorithm ${hexByte(cmd.p2)} is not 73 or 70`);
  }
  const hashed = cmd.p2 === ALGO.ECDSA_PREHASHED;
  const expected = hashed ? ctx.digest : ctx.input;
  if (!bytesEqual(cmd.data, expected))
    return no('sign-other-data', signDataMismatch(cmd.data, ctx, hashed));
  if (ctx.used >= SIGNATURE_BUDGET) {
    return no('sign-budget-spent', 'the one signature of this approval was already made');
  }
  return allow(hashed ? 'sign-pka-hash' : 'sign-pka-input');
}

function signDataMismatch(data: Uint8Array, ctx: Context, hashed: boolean): string {
  if (hashed) return 'SIGN hash is not SHA-256 of the approved target CHR and challenge';
  const prefix = data.subarray(0, ctx.chr.length);
  if (data.length < ctx.chr.length || !bytesEqual(prefix, ctx.chr)) {
    return `SIGN input does not name the approved target (starts ${toHex(prefix)})`;
  }
  return 'SIGN input names the approved target but not the approved challenge';
}
