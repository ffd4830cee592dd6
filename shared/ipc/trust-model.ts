/**
 * The trust cues of the view model: what this app remembers about a target device (has this
 * custodian approved it before, on this server) and the security alerts it raises when the
 * engine refuses an offer or drops a server that keeps sending refused offers. Kept apart from
 * model.ts by concern; validated like every other payload (server text is untrusted display
 * text, capped).
 * @module
 */
import { z } from 'zod';

const MAX_TEXT = 500;
const MAX_ID = 128;
const text = z.string().max(MAX_TEXT);
const id = z.string().min(1).max(MAX_ID);
const isoTime = z.iso.datetime({ offset: true });

/**
 * What this app remembers about a target device on one server: whether this custodian approved
 * it before (in another ceremony) and when last. Remembered by this computer, never the server's
 * word, so the first request that names an unknown device can be flagged.
 */
export const targetHistorySchema = z.strictObject({
  approvedBefore: z.boolean(),
  /** How many earlier ceremonies of this device this custodian approved (capped). */
  times: z.number().int().min(0).max(10_000),
  lastApprovedAt: isoTime.optional(),
});
/** What this app remembers about a target device. */
export type TargetHistory = z.infer<typeof targetHistorySchema>;

/** What the refused offer claimed (server text, not verified, display only). */
export const statedOfferSchema = z.strictObject({
  purpose: text,
  requester: text,
  targetLabel: text,
  /** The device id the offer named (its chain may not have confirmed it). */
  targetDeviceId: text,
});

/** Kinds of security alert. */
export const securityAlertKindSchema = z.enum(['offer-refused', 'server-suspicious']);

/**
 * A security alert: an offer the engine refused (untrusted chain, wrong target, hostile script,
 * replaced offer …) or a server the engine disconnected because it kept sending refused offers.
 * The server operator may be the attacker, so the advice always says to tell the security
 * officer out of band.
 */
export const securityAlertSchema = z.strictObject({
  id,
  kind: securityAlertKindSchema,
  serverId: id,
  /** Display name of the server (as the invitation named it). */
  serverName: text,
  at: isoTime,
  /** The engine's rejection code (e.g. `script-refused`), for the technical details. */
  code: id,
  /** What was refused, in plain words. */
  title: text,
  /** Why, in plain words. */
  reason: text,
  /** The engine's own message (technical detail). */
  detail: text,
  ceremonyId: id.optional(),
  offerId: id.optional(),
  stated: statedOfferSchema.optional(),
  /** The ceremony is still open here, so "Decline & report" can decline it. */
  ceremonyOpen: z.boolean(),
  /** The custodian used "Decline & report" (or dismissed it as reported). */
  reported: z.boolean(),
});
/** A security alert. */
export type SecurityAlert = z.infer<typeof securityAlertSchema>;

/** The answer to "Decline & report". */
export const reportResultSchema = z.strictObject({
  alert: securityAlertSchema,
  /** The open ceremony was declined as part of the report. */
  declined: z.boolean(),
});
/** Outcome of "Decline & report". */
export type ReportResult = z.infer<typeof reportResultSchema>;
