/**
 * How a rejected offer is recorded and answered: the audit entries (the offer rejection, and
 * for a refused script each command the firewall denied) and the decline sent to the server.
 * @module
 */
import type { AuditData, AuditKind } from '../../shared/audit/audit-chain';
import {
  hasForbiddenDisplayCharacter,
  LIMITS,
  type DeclineReason,
  type OfferMessage,
} from '../../shared/protocol/index';
import type { OfferRejection } from './offer-verify';

/** Appends an audit entry; false when the log could not be written. */
export type SafeAudit = (kind: AuditKind, data: AuditData) => boolean;

/** Makes text safe for a protocol display field: no control/format characters, bounded, not blank. */
export function displayText(text: string, max: number = LIMITS.reasonChars): string {
  const clean = [...text].map((c) => (hasForbiddenDisplayCharacter(c) ? '?' : c)).join('');
  const cut = clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
  return cut.trim().length > 0 ? cut : '(no detail)';
}

/** Audits a rejected offer (and each denied script command of a refused script). */
export function auditOfferRejected(
  audit: SafeAudit,
  offer: OfferMessage,
  rejection: OfferRejection,
): void {
  const ids = { ceremonyId: offer.ceremonyId, offerId: offer.offerId };
  for (const b of rejection.blocked ?? []) {
    if (b.decision.allow) continue;
    audit('apdu-blocked', {
      ...ids,
      index: b.index,
      phase: 'pre-inspection',
      header: b.decision.header,
      rule: b.decision.rule,
      reason: b.decision.reason,
    });
  }
  audit('offer-rejected', { ...ids, code: rejection.code, message: rejection.message });
}

/** The decline reason and detail sent for a rejection. */
export function declineFor(rejection: OfferRejection): { reason: DeclineReason; detail: string } {
  const reason: DeclineReason =
    rejection.code === 'expired'
      ? 'expired'
      : rejection.code === 'script-refused'
        ? 'script-refused'
        : 'offer-invalid';
  return { reason, detail: displayText(rejection.message) };
}
