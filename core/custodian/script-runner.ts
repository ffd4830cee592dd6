/**
 * Runs an approved script on the custodian card: every command APDU passes the firewall first;
 * allowed ones go to the card, refused ones get the firewall's status word and never reach the
 * card (docs/card-reference.md §12). The audit records headers, Lc and SW only, never command or response
 * data (the PIN is never part of a script: VERIFY with data is denied, §12.2).
 * @module
 */
import {
  decodeCommandApdu,
  encodeResponseApdu,
  type CommandApdu,
  type ResponseApdu,
} from '../../shared/codec/apdu';
import { toHex } from '../../shared/codec/bytes';
import { swHex } from '../../shared/card/status-words';
import type { ApduFirewall } from '../../shared/policy/firewall';
import { LIMITS, type ScriptResult } from '../../shared/protocol/index';
import type { AuditData, AuditKind } from '../../shared/audit/audit-chain';

/** Sends one command to the card (an ApduChannel handles GET RESPONSE and Le correction). */
export type CommandPort = { send(cmd: CommandApdu): Promise<ResponseApdu> };

/** Appends an audit entry. */
// Per-APDU entries are written at once but synced together: the engine fsyncs the log before
// the decision leaves (engine-approve.ts), so each command costs a write, not an fsync.
const DEFER = { sync: false } as const;

export type AuditSink = (
  kind: AuditKind,
  data: AuditData,
  options?: { readonly sync?: boolean },
) => void;

/** What the run produced. */
export type ScriptRun = {
  readonly results: ScriptResult[];
  readonly forwarded: number;
  readonly blocked: number;
  readonly signatures: number;
};

/**
 * Runs `script` (see module doc) in order, stopping after the first refused step, so
 * `results` may be shorter than the script. Rejects only when the card transport fails.
 */
export async function runScript(
  script: readonly Uint8Array[],
  firewall: ApduFirewall,
  card: CommandPort,
  audit: AuditSink,
  ids: { readonly ceremonyId: string; readonly offerId: string },
): Promise<ScriptRun> {
  const results: ScriptResult[] = [];
  let forwarded = 0;
  let blocked = 0;
  for (const [index, apdu] of script.entries()) {
    const decision = firewall.inspect(apdu);
    if (!decision.allow) {
      blocked += 1;
      audit(
        'apdu-blocked',
        {
          ...ids,
          index,
          header: decision.header,
          rule: decision.rule,
          reason: decision.reason,
          sw: swHex(decision.sw),
        },
        DEFER,
      );
      results.push({ blocked: { sw: decision.sw, rule: decision.rule, reason: decision.reason } });
      // docs/protocol.md §4.2: the script stops at the first refused step.
      break;
    }
    const decoded = decodeCommandApdu(apdu);
    // The firewall allowed it, so it decodes; checked again so a bug cannot send garbage.
    if (!decoded.ok) throw new Error(`allowed APDU ${decision.header} does not decode`);
    const resp = await card.send(decoded.value);
    let rapdu = encodeResponseApdu(resp);
    if (rapdu.length > LIMITS.responseApduBytes) {
      // Never happens for allowed commands on a genuine card; keep the frame within limits.
      rapdu = encodeResponseApdu({ data: new Uint8Array(0), sw: 0x6700 });
    }
    forwarded += 1;
    audit(
      'apdu-forwarded',
      {
        ...ids,
        index,
        header: decision.header,
        rule: decision.rule,
        lc: decoded.value.data.length,
        sw: swHex(resp.sw),
      },
      DEFER,
    );
    results.push({ rapdu: toHex(rapdu) });
  }
  return { results, forwarded, blocked, signatures: firewall.signaturesUsed };
}
