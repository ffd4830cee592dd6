/**
 * How an offer is shown in the terminal: everything the custodian must see before approving
 * (docs/card-reference.md §14.2 item 3): target device id from the validated chain, the trust anchor
 * (TEST anchors flagged loudly), chain path, purpose, requester, quorum and progress, expiry.
 * Server-provided text is display-checked by the protocol and, like all CLI output, written
 * through the terminal-safe writer (cli/terminal.ts), so nothing here escapes by hand.
 * @module
 */
import type { EngineEvent, OfferView } from '../../core/custodian/engine-types';
import type { OfferRejection } from '../../core/custodian/offer-verify';
import type { OfferMessage } from '../../shared/protocol/index';

/** Minutes and seconds until `at`, or "expired". */
export function timeLeft(at: Date, now: Date): string {
  const s = Math.floor((at.getTime() - now.getTime()) / 1000);
  if (s <= 0) return 'expired';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${s % 60} s left` : `${s} s left`;
}

/** The multi-line description of an offer. */
export function formatOffer(view: OfferView, now: Date): string {
  const v = view.verified;
  const o = v.offer;
  const anchor = v.anchor.test
    ? `${v.anchor.chr} — !!! TEST ANCHOR: NOT PRODUCTION HARDWARE !!!`
    : `${v.anchor.chr} (production)`;
  const approvedBy =
    view.progress.approvedBy.length > 0 ? ` (${view.progress.approvedBy.join(', ')})` : '';
  const lines = [
    `Ceremony ${o.ceremonyId}  (offer ${o.offerId})`,
    `  Target       ${o.target.label}`,
    `  Device id    ${v.deviceId}   [from the verified certificate chain]`,
    `  Trust anchor ${anchor}`,
    `  Chain        genuine, ${v.chainPath}`,
    ...v.chainWarnings.map((w) => `  Warning      ${w}`),
    `  Purpose      ${o.purpose}`,
    `  Requester    ${o.requester}`,
    `  Quorum       ${o.quorum.n} of ${o.quorum.m}; ${view.progress.authenticated} authenticated${approvedBy}`,
    `  Your key     ${o.key.chr} (key id ${o.key.keyId})`,
    `  Expires      ${o.expiresAt} (${timeLeft(v.expiresAt, now)})`,
    `  Script       ${v.script.length} command(s), all allowed by the firewall`,
  ];
  return lines.join('\n') + '\n';
}

/** What each refusal that points at an untrusted or hostile server means, in plain words. */
const SUSPICIOUS: Partial<Record<OfferRejection['code'], string>> = {
  'chain-invalid': 'the target is not a genuine SmartCard-HSM (its certificate chain fails)',
  'untrusted-anchor': 'the target chains to a root this client does not trust',
  'device-mismatch': 'the device id shown is not the one in the target certificate',
  'script-refused': 'the server asked your card for commands the firewall does not allow',
  replayed: 'the server re-used a challenge or altered an offer it sent before',
  malformed: 'the offer does not describe one well-formed approval',
  'expiry-too-far': 'the offer claims an expiry far beyond what the protocol allows',
  'wrong-key': 'the offer asks for a key that is not your custodian key',
};

/**
 * The lines about a rejected offer. A refusal that points at an untrusted or hostile server
 * is not silent (issue 7 "Also"): what was refused, why, and whom to tell, out of band.
 */
export function formatRejection(offer: OfferMessage, rejection: OfferRejection): string {
  const head = `REJECTED offer ${offer.offerId} (ceremony ${offer.ceremonyId}, target ${offer.target.deviceId}): ${rejection.message}\n`;
  const what = SUSPICIOUS[rejection.code];
  if (what === undefined) return head;
  return (
    head +
    `  !!! The server sent a request this client refuses: ${what}. Nothing was signed.\n` +
    `  !!! Contact your security officer out of band (not through this server): the server operator may be the attacker.\n`
  );
}

/** One line for the other events, or undefined when the event is not printed. */
export function formatEvent(e: EngineEvent): string | undefined {
  switch (e.type) {
    case 'connection': {
      const s = e.state;
      if (s.kind === 'authenticated') return `connected as ${s.custodianId}\n`;
      // A refused credential gets its own line (the auth-refused event).
      if (s.kind === 'waiting' && s.code === 4001) return undefined;
      if (s.kind === 'waiting')
        return `connection lost (${s.reason}); retrying in ${(s.delayMs / 1000).toFixed(1)} s\n`;
      if (s.kind === 'stopped') return `disconnected: ${s.reason}\n`;
      return undefined;
    }
    case 'offer-removed':
      return `offer ${e.offerId} (ceremony ${e.ceremonyId}) closed: ${e.reason}\n`;
    case 'result': {
      const r = e.result;
      const why = r.reason ? ` — ${r.reason}` : '';
      return `result for ceremony ${r.ceremonyId}: ${r.outcome} (SW ${r.sw.toString(16).toUpperCase().padStart(4, '0')}), ${r.progress.authenticated} authenticated${why}\n`;
    }
    case 'server-error':
      return `server error ${e.code}: ${e.message}\n`;
    case 'invalid-frame':
      return `ignored an invalid frame from the server (${e.message}; ${e.count} so far)\n`;
    case 'offer-rejected':
      return formatRejection(e.offer, e.rejection);
    case 'auth-refused':
      return `the server REFUSED your credential (${e.reason}); retrying in ${(e.retryInMs / 1000).toFixed(1)} s (attempt ${e.attempt}). If this persists, your enrollment may have been revoked or someone may be guessing your credential: contact your security officer.\n`;
    case 'server-suspicious':
      return `DISCONNECTED: the server is SUSPICIOUS (${e.reason}); not reconnecting. Contact your security officer out of band — the server operator may be the attacker. Restart watch only after talking to them.\n`;
    default:
      return undefined;
  }
}
