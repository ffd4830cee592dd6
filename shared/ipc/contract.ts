/**
 * The one typed IPC contract of the desktop app: for every method of `window.custodian`, the
 * zod schema of its request and of its response (invoke calls) or of its payload (events).
 * Main validates each request before any handler runs and each response and event before it
 * leaves; the preload builds its named functions from {@link INVOKE_CHANNELS} and
 * {@link EVENT_CHANNELS}, so there is no other way across.
 * @module
 */
import { z } from 'zod';
import type { Result } from '../result';
import { USER_PIN_LENGTH } from '../sc-hsm/pin';
import type { EVENT_CHANNELS, INVOKE_CHANNELS } from './channels';
import { type EventMethod, type InvokeMethod } from './channels';
import { IPC_ERROR_CODES, type IpcError } from './errors';
import { MAX_INVITATION_CHARS, isInvitationLetter, parseInvitation } from './invitation';
import {
  MAX_ID,
  MAX_LIST,
  MAX_TEXT,
  auditEntrySchema,
  auditVerifySchema,
  cardSchema,
  ceremonyDetailSchema,
  ceremonyResultSchema,
  ceremonySummarySchema,
  navigateSchema,
  offerDigestSchema,
  readerSchema,
  serverPreviewSchema,
  serverSchema,
  settingsSchema,
  traceEntrySchema,
} from './model';
import { reportResultSchema, securityAlertSchema } from './trust-model';

/**
 * The PIN as typed in the dialog: 6–16 printable ASCII characters (docs/card-reference.md §3.1). It crosses
 * IPC from renderer to main only; main turns it into bytes and wipes them after use.
 */
export const pinSchema = z
  .string()
  .min(USER_PIN_LENGTH.min)
  .max(USER_PIN_LENGTH.max)
  .regex(/^[\x20-\x7e]+$/);

/**
 * Server address: https only; plain http only to loopback, for local tests
 * (docs/card-reference.md §14.2 item 4).
 */
export const serverUrlSchema = z
  .string()
  .max(2048)
  .regex(
    /^(?:https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?|http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?)(?:\/[^\s]*)?$/,
    'use an https:// address',
  );

/** The invitation as pasted: the bare token or the whole letter (shared/ipc/invitation.ts). */
export const inviteSchema = z
  .string()
  .min(16)
  .max(MAX_INVITATION_CHARS)
  // A bare token's form is the backend's to judge (it names the problem); a letter must parse.
  .refine(
    (s) => (isInvitationLetter(s) ? parseInvitation(s).ok : /^[A-Za-z0-9._~+/=-]+$/.test(s.trim())),
    'not an invitation token or letter',
  );

const id = z.string().min(1).max(MAX_ID);
const reader = z.string().min(1).max(MAX_TEXT);
const limit = z.strictObject({ limit: z.number().int().min(1).max(MAX_LIST).optional() });
const none = z.undefined();
/** Most security alerts kept and sent at once. */
export const MAX_ALERTS = 100;

/** An error as it crosses IPC (see errors.ts for the words shown). */
export const ipcErrorSchema = z.strictObject({
  code: z.enum(IPC_ERROR_CODES),
  message: z.string().max(500),
  retriesLeft: z.number().int().min(0).max(15).optional(),
});

/** Overview the renderer loads at start (decides between first run and the main views). */
export const overviewSchema = z.strictObject({
  servers: z.array(serverSchema).max(32),
  settings: settingsSchema,
  version: z.string().max(64),
  /**
   * False when main could not create a system tray (e.g. GNOME without the AppIndicator
   * extension): closing keeps a window instead, and Settings says so. Absent: not known.
   */
  trayAvailable: z.boolean().optional(),
});

/** Request and response schemas of every invoke method. */
export const INVOKE_CONTRACT = {
  getOverview: { request: none, response: overviewSchema },
  previewServer: {
    request: z.strictObject({ url: serverUrlSchema, invite: inviteSchema }),
    response: serverPreviewSchema,
  },
  addServer: {
    request: z.strictObject({ url: serverUrlSchema, invite: inviteSchema }),
    response: serverSchema,
  },
  removeServer: { request: z.strictObject({ serverId: id }), response: z.null() },
  listReaders: { request: none, response: z.array(readerSchema).max(64) },
  inspectCard: { request: z.strictObject({ reader }), response: cardSchema },
  createKey: {
    request: z.strictObject({
      reader,
      label: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[\x20-\x7e]+$/),
      pin: pinSchema.optional(),
    }),
    response: cardSchema,
  },
  exportPka: {
    request: z.strictObject({ reader }),
    response: z.strictObject({ saved: z.boolean(), fileName: z.string().max(MAX_TEXT) }),
  },
  listCeremonies: { request: none, response: z.array(ceremonySummarySchema).max(MAX_LIST) },
  getCeremony: { request: z.strictObject({ ceremonyId: id }), response: ceremonyDetailSchema },
  approveCeremony: {
    // `pin` absent = PIN pad reader (the PIN never passes through the app, docs/card-reference.md §3.1).
    // `confirmLastTry`: the custodian confirmed using the last PIN try (else `pin-last-try`).
    // `acknowledgeTestAnchor`: CHR of the TEST root (configured, not built in) the custodian
    // acknowledged for this ceremony; required exactly when the target chains to one (else
    // `test-anchor-unacknowledged`).
    // `offerId` + `offerDigest`: the exact offer the detail view showed (CeremonyDetail); an
    // offer the server replaced meanwhile is refused with `offer-changed`, never signed.
    request: z.strictObject({
      ceremonyId: id,
      offerId: id,
      offerDigest: offerDigestSchema,
      reader,
      pin: pinSchema.optional(),
      confirmLastTry: z.boolean().optional(),
      acknowledgeTestAnchor: id.optional(),
    }),
    response: ceremonyResultSchema,
  },
  declineCeremony: {
    request: z.strictObject({ ceremonyId: id, reason: z.string().max(MAX_TEXT).optional() }),
    response: ceremonyResultSchema,
  },
  /**
   * The PIN-pad dialog's Cancel: aborts the ceremony's pending PIN-pad entry (audited as the
   * custodian's cancel); its result is never used. True when an entry was pending.
   */
  cancelPinPad: { request: z.strictObject({ ceremonyId: id }), response: z.boolean() },
  listTrace: { request: limit, response: z.array(traceEntrySchema).max(MAX_LIST) },
  listAudit: { request: limit, response: z.array(auditEntrySchema).max(MAX_LIST) },
  verifyAudit: { request: none, response: auditVerifySchema },
  getSettings: { request: none, response: settingsSchema },
  updateSettings: { request: settingsSchema.partial(), response: settingsSchema },
  openExternal: { request: z.strictObject({ url: z.string().max(2048) }), response: z.boolean() },
  /** Security alerts (refused offers, suspicious servers), newest first. */
  listAlerts: { request: none, response: z.array(securityAlertSchema).max(MAX_ALERTS) },
  /**
   * "Decline & report": declines the alert's ceremony when it is still open here and marks the
   * alert reported (the report to the security officer goes out of band).
   */
  reportAlert: { request: z.strictObject({ alertId: id }), response: reportResultSchema },
} as const satisfies Record<InvokeMethod, { request: z.ZodType; response: z.ZodType }>;

/** Payload schema of every event. */
export const EVENT_CONTRACT = {
  onCeremonies: z.array(ceremonySummarySchema).max(MAX_LIST),
  onReaders: z.array(readerSchema).max(64),
  onServers: z.array(serverSchema).max(32),
  onTrace: traceEntrySchema,
  onNavigate: navigateSchema,
  onAlerts: z.array(securityAlertSchema).max(MAX_ALERTS),
} as const satisfies Record<EventMethod, z.ZodType>;

// Both maps must have exactly the channel maps' keys (a missing or extra key fails to compile).
type SameKeys<A, B> = [keyof A] extends [keyof B]
  ? [keyof B] extends [keyof A]
    ? true
    : never
  : never;
const KEYS_MATCH: [
  SameKeys<typeof INVOKE_CONTRACT, typeof INVOKE_CHANNELS>,
  SameKeys<typeof EVENT_CONTRACT, typeof EVENT_CHANNELS>,
] = [true, true];
void KEYS_MATCH;

/** What every invoke call resolves with: never a rejected promise for expected failures. */
export type IpcResult<T> = Result<T, IpcError>;

/** Request type of an invoke method (as the caller passes it). */
export type RequestOf<M extends InvokeMethod> = z.input<(typeof INVOKE_CONTRACT)[M]['request']>;
/** Request type of an invoke method after validation. */
export type ParsedRequestOf<M extends InvokeMethod> = z.output<
  (typeof INVOKE_CONTRACT)[M]['request']
>;
/** Response type of an invoke method. */
export type ResponseOf<M extends InvokeMethod> = z.output<(typeof INVOKE_CONTRACT)[M]['response']>;
/** Payload type of an event. */
export type PayloadOf<E extends EventMethod> = z.output<(typeof EVENT_CONTRACT)[E]>;

type ArgsOf<M extends InvokeMethod> = RequestOf<M> extends undefined ? [] : [request: RequestOf<M>];

/**
 * The API on `window.custodian`: one named function per invoke method, one subscription per
 * event (returns its unsubscribe function).
 */
export type CustodianApi = {
  readonly [M in InvokeMethod]: (...args: ArgsOf<M>) => Promise<IpcResult<ResponseOf<M>>>;
} & {
  readonly [E in EventMethod]: (listener: (payload: PayloadOf<E>) => void) => () => void;
};
