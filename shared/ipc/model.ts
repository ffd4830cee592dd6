/**
 * The view model that crosses the IPC boundary between the desktop app's main process and its
 * renderer. Every type is inferred from a zod schema, so the same definition is both the
 * TypeScript type and the runtime validator (main validates what arrives from the renderer and
 * what it sends back). Strings and lists carry length caps: the renderer is treated as untrusted
 * and server text is untrusted display text (docs/card-reference.md §14.2 item 7).
 * @module
 */
import { z } from 'zod';
import { targetHistorySchema } from './trust-model';

/** Longest free text (names, purposes, reasons) shown in the UI. */
export const MAX_TEXT = 500;
/** Longest identifier (ceremony ids, server ids, CHRs, key labels). */
export const MAX_ID = 128;
/** Longest list the UI accepts in one message. */
export const MAX_LIST = 5000;

const text = z.string().max(MAX_TEXT);
const id = z.string().min(1).max(MAX_ID);
const isoTime = z.iso.datetime({ offset: true });
/** An offer display digest (shared/policy/offer-display-digest.ts): 64 lower-case hex digits. */
export const offerDigestSchema = z.string().regex(/^[0-9a-f]{64}$/);
const hex = z
  .string()
  .max(2 * 65_544)
  .regex(/^(?:[0-9A-F]{2})*$/);

/** A trust anchor (CVCA / scheme root) a server or the app trusts; test roots are flagged. */
export const trustAnchorSchema = z.strictObject({
  /** CHR of the root, e.g. `DESRCACC100001`. */
  name: id,
  /** SHA-256 of the encoded certificate, upper-case hex. */
  fingerprint: z.string().regex(/^[0-9A-F]{64}$/),
  /** True for test/development roots: a genuine device never chains to them. */
  test: z.boolean(),
  /**
   * Built into the app; configured on this computer (custodian config `trustAnchors`, a TEST
   * root by definition); or announced by a server (then it must match one of the app's own).
   */
  source: z.enum(['built-in', 'configured', 'server']),
});
/** A trust anchor (CVCA / scheme root). */
export type TrustAnchor = z.infer<typeof trustAnchorSchema>;

/** What a server's invite says before the custodian confirms it (first-run step 1). */
export const serverPreviewSchema = z.strictObject({
  url: z.string().max(2048),
  /** The server's name: as the invitation names it, else its host (`nameSource`). */
  name: text,
  /** Where `name` comes from; absent from older producers (the host). */
  nameSource: z.enum(['invitation', 'address']).optional(),
  /** The custodian identity the invite was issued for. */
  custodianName: text,
  /** SHA-256 of the server's TLS certificate the app will pin (upper-case hex). */
  tlsFingerprint: z.string().regex(/^[0-9A-F]{64}$/),
  /** The fingerprint the pasted invitation letter states, to compare with `tlsFingerprint`. */
  invitationFingerprint: z
    .string()
    .regex(/^[0-9A-F]{64}$/)
    .optional(),
  anchors: z.array(trustAnchorSchema).max(32),
});
/** Invite preview. */
export type ServerPreview = z.infer<typeof serverPreviewSchema>;

/** A configured management server. */
export const serverSchema = serverPreviewSchema.extend({
  id,
  /** CHR of the custodian key registered at this server, and the reader of its card. */
  keyChr: id.optional(),
  reader: text.optional(),
  state: z.enum(['connected', 'connecting', 'offline', 'error']),
});
/** A configured management server. */
export type ServerView = z.infer<typeof serverSchema>;

/** A PC/SC reader as the custodian sees it. */
export const readerSchema = z.strictObject({
  name: text,
  cardPresent: z.boolean(),
  /** The reader has a PIN pad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT). */
  pinPad: z.boolean(),
});
/** A PC/SC reader. */
export type ReaderView = z.infer<typeof readerSchema>;

/** PIN state of the custodian card (docs/card-reference.md §3.1). */
export const pinStatusSchema = z.strictObject({
  state: z.enum([
    'verified',
    'not-verified',
    'blocked',
    'transport-pin',
    'not-initialized',
    'pka-active',
  ]),
  retries: z.number().int().min(0).max(15).optional(),
});
/** PIN state of the custodian card. */
export type PinStatusView = z.infer<typeof pinStatusSchema>;

/** Result of checking a device certificate chain against the trust anchors (docs/card-reference.md §5). */
export const chainStatusSchema = z.strictObject({
  status: z.enum(['genuine', 'test', 'untrusted', 'invalid']),
  /** The anchor the chain ends in, when it ends in a known one. */
  anchor: id.optional(),
  /** Why the chain is not genuine, in plain words. */
  detail: text.optional(),
});
/** Chain check result. */
export type ChainStatus = z.infer<typeof chainStatusSchema>;

/** The custodian's PKA key on their own card (docs/card-reference.md §6.2). */
export const pkaKeySchema = z.strictObject({
  keyId: z.number().int().min(1).max(255),
  label: text,
  /** CHR of the key's authenticated request: its name at every target. */
  chr: id,
  curve: z.enum(['brainpoolP256r1', 'secp256r1']),
});
/** The custodian's PKA key. */
export type PkaKeyView = z.infer<typeof pkaKeySchema>;

/** The custodian card in one reader. */
export const cardSchema = z.strictObject({
  reader: text,
  /** CHR of the card's device certificate. */
  deviceId: id,
  chain: chainStatusSchema,
  pin: pinStatusSchema,
  pkaKey: pkaKeySchema.nullable(),
  pinPad: z.boolean(),
});
/** The custodian card. */
export type CardView = z.infer<typeof cardSchema>;

/** Where a ceremony stands. */
export const ceremonyStatusSchema = z.enum([
  'waiting',
  'approved',
  'declined',
  'quorum',
  'expired',
  'cancelled',
  'failed',
]);
/** Where a ceremony stands. */
export type CeremonyStatus = z.infer<typeof ceremonyStatusSchema>;

/** One ceremony in the list. */
export const ceremonySummarySchema = z.strictObject({
  id,
  serverId: id,
  purpose: text,
  requester: text,
  /** CHR of the target HSM's device certificate (the device id in the signed input, §6.6). */
  targetDeviceId: id,
  /** Human label of the target (server text, display only). */
  targetLabel: text,
  /** Approvals needed (n of m, docs/card-reference.md §6.1). */
  required: z.number().int().min(1).max(255),
  /** Custodians registered at the target. */
  total: z.number().int().min(1).max(255),
  approvals: z.number().int().min(0).max(255),
  status: ceremonyStatusSchema,
  /** When it was requested (see `createdAtSource`). */
  createdAt: isoTime,
  /**
   * `server`: the server's time of request (never later than this app first saw it);
   * `seen`: the server did not say, so when this app first saw it. Absent: older producers.
   */
  createdAtSource: z.enum(['server', 'seen']).optional(),
  expiresAt: isoTime,
  /**
   * The target's device chain as this app checked it, so the list can flag TEST targets
   * (optional in the list for older producers; always present in the detail).
   */
  targetChain: chainStatusSchema.optional(),
  /**
   * Whether this custodian approved this target device before on this server (remembered by
   * this computer). Absent from older producers; the UI then says it cannot tell.
   */
  targetHistory: targetHistorySchema.optional(),
});
/** One ceremony in the list. */
export type CeremonySummary = z.infer<typeof ceremonySummarySchema>;

/** A custodian's part in a ceremony. */
export const custodianStateSchema = z.strictObject({
  name: text,
  state: z.enum(['approved', 'declined', 'pending']),
  /** This is the person using the app. */
  me: z.boolean(),
  at: isoTime.optional(),
});
/** A custodian's part in a ceremony. */
export type CustodianState = z.infer<typeof custodianStateSchema>;

/** Everything the detail view shows about one ceremony. */
export const ceremonyDetailSchema = ceremonySummarySchema.extend({
  /** The target's device chain as checked by this app (never the server's word). */
  targetChain: chainStatusSchema,
  custodians: z.array(custodianStateSchema).max(255),
  /** CHR of the custodian key that would sign. */
  keyChr: id.optional(),
  /** The offer this detail shows; an approval must name it (issue 7 item 3). */
  offerId: id,
  /** Digest of what this detail shows (shared/policy/offer-display-digest.ts). */
  offerDigest: offerDigestSchema,
});
/** Ceremony detail. */
export type CeremonyDetail = z.infer<typeof ceremonyDetailSchema>;

/** What an approval or decline achieved. */
export const ceremonyResultSchema = z.strictObject({
  ceremonyId: id,
  outcome: z.enum(['approved', 'declined', 'quorum']),
  approvals: z.number().int().min(0).max(255),
  required: z.number().int().min(1).max(255),
  /** APDUs the firewall refused during this approval (docs/card-reference.md §12.2). */
  blocked: z.number().int().min(0),
});
/** Outcome of approve/decline. */
export type CeremonyResult = z.infer<typeof ceremonyResultSchema>;

/** One APDU the server asked the custodian card to run (docs/card-reference.md §12, docs/card-reference.md §14.2). */
export const traceEntrySchema = z.strictObject({
  seq: z.number().int().min(0),
  time: isoTime,
  ceremonyId: id.optional(),
  decision: z.enum(['forwarded', 'blocked']),
  /** `CLA INS P1 P2` in hex with spaces, e.g. `80 68 01 73`. */
  header: z.string().max(16),
  /** Firewall rule id (shared/policy/firewall-rules.ts). */
  rule: id,
  /** Rule text or deny reason. */
  reason: text,
  command: hex,
  response: hex.optional(),
  sw: z.number().int().min(0).max(0xffff),
  durationMs: z.number().min(0).optional(),
});
/** One APDU trace line. */
export type TraceEntry = z.infer<typeof traceEntrySchema>;

/** One audit log line as shown in the UI (see shared/audit/audit-chain.ts). */
export const auditEntrySchema = z.strictObject({
  seq: z.number().int().min(0),
  time: isoTime,
  kind: id,
  summary: text,
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
/** One audit line. */
export type AuditEntryView = z.infer<typeof auditEntrySchema>;

/** Result of verifying the audit hash chain. */
export const auditVerifySchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), entries: z.number().int().min(0), head: z.string() }),
  z.strictObject({ ok: z.literal(false), line: z.number().int().min(0), reason: text }),
]);
/** Audit verification result. */
export type AuditVerifyView = z.infer<typeof auditVerifySchema>;

/** User settings kept by main. */
export const settingsSchema = z.strictObject({
  theme: z.enum(['system', 'light', 'dark']),
  startAtLogin: z.boolean(),
  notifications: z.boolean(),
  /** Closing the window keeps the app running in the tray. */
  closeToTray: z.boolean(),
  /** Reminders before a waiting ceremony expires, in minutes (empty: none). */
  reminderMinutes: z.array(z.number().int().min(1).max(240)).max(4),
  /** Only security alerts notify (no new-request, reminder or outcome notifications). */
  doNotDisturb: z.boolean(),
  /** Notifications play the system sound. */
  sound: z.boolean(),
});
/** User settings. */
export type Settings = z.infer<typeof settingsSchema>;

export { DEFAULT_SETTINGS } from './defaults';

/** The views the renderer can show (also the target of tray/notification clicks). */
export const viewSchema = z.enum([
  'first-run',
  'card',
  'ceremonies',
  'ceremony',
  'audit',
  'trace',
  'settings',
]);
/** A renderer view. */
export type ViewName = z.infer<typeof viewSchema>;

/** Ask the renderer to show a view (tray menu, notification click). */
export const navigateSchema = z.strictObject({ view: viewSchema, ceremonyId: id.optional() });
/** Navigation request. */
export type NavigateRequest = z.infer<typeof navigateSchema>;
