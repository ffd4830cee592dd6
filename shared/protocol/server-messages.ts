/**
 * Messages the server sends to the custodian client (schemas and types).
 * @module
 */
import { z } from 'zod';
import {
  chrSchema,
  codeSchema,
  displayTextSchema,
  hexSchema,
  idSchema,
  keyIdSchema,
  progressSchema,
  quorumSchema,
  secretSchema,
  swSchema,
  timestampSchema,
} from './fields';
import { HEARTBEAT, LIMITS, PROTOCOL_VERSION } from './limits';

const v = z.literal(PROTOCOL_VERSION);

/** `welcome`: authentication succeeded; pending offers follow. */
export const welcomeSchema = z.strictObject({
  v,
  type: z.literal('welcome'),
  custodianId: idSchema,
  /** Present only right after enrollment: store it, it replaces the token. */
  credential: secretSchema.optional(),
  /** Server clock, so the client can correct its own for expiry checks. */
  serverTime: timestampSchema,
  heartbeatSeconds: z.int().min(HEARTBEAT.minSeconds).max(HEARTBEAT.maxSeconds),
  /** The server's display name as its invitations print it (untrusted display text). */
  serverName: displayTextSchema(LIMITS.serverNameChars).optional(),
});

/** The ceremony target as the server describes it. */
export const targetSchema = z.strictObject({
  label: displayTextSchema(LIMITS.labelChars),
  /** CHR of the target's device certificate; must equal the CHR in `chain`. */
  deviceId: chrSchema,
  /** Hex of the target's EF 2F02 (device CVC ‖ DICA CVC, docs/card-reference.md §5.1). */
  chain: hexSchema(1, LIMITS.chainBytes),
});

/** `offer`: a request to authenticate one custodian at one target (docs/card-reference.md §6.6). */
export const offerSchema = z
  .strictObject({
    v,
    type: z.literal('offer'),
    ceremonyId: idSchema,
    offerId: idSchema,
    target: targetSchema,
    purpose: displayTextSchema(LIMITS.purposeChars),
    requester: displayTextSchema(LIMITS.requesterChars),
    quorum: quorumSchema,
    progress: progressSchema,
    expiresAt: timestampSchema,
    /** When the ceremony was requested, by the server's clock. */
    requestedAt: timestampSchema.optional(),
    /**
     * Display names of every custodian of the target; `you` marks the one this offer is for
     * (docs/protocol.md §5.2). Names only: no ids, no keys.
     */
    custodians: z
      .array(z.strictObject({ name: displayTextSchema(LIMITS.nameChars), you: z.boolean() }))
      .max(LIMITS.quorumMax)
      .optional(),
    /** The target's challenge (GET CHALLENGE answer) the custodian key signs. */
    challenge: hexSchema(LIMITS.challengeMinBytes, LIMITS.challengeMaxBytes),
    /** The custodian key the server expects to sign. */
    key: z.strictObject({ chr: chrSchema, keyId: keyIdSchema }),
    /** Command APDUs to run on the custodian card on approval, in order. */
    script: z.strictObject({
      apdus: z
        .array(hexSchema(LIMITS.commandApduMinBytes, LIMITS.commandApduBytes))
        .min(1)
        .max(LIMITS.scriptApdus),
    }),
  })
  .refine((o) => o.progress.authenticated <= o.quorum.m, {
    message: 'authenticated exceeds m',
    path: ['progress', 'authenticated'],
  })
  .refine((o) => o.progress.approvedBy.length <= o.quorum.m, {
    message: 'more approvers than custodians',
    path: ['progress', 'approvedBy'],
  })
  .refine((o) => (o.custodians ?? []).filter((c) => c.you).length <= 1, {
    message: 'more than one custodian marked "you"',
    path: ['custodians'],
  })
  .refine(
    (o) => new Set((o.custodians ?? []).map((c) => c.name)).size === (o.custodians ?? []).length,
    {
      message: 'custodian names repeat',
      path: ['custodians'],
    },
  )
  .refine(
    (o) => o.requestedAt === undefined || Date.parse(o.requestedAt) <= Date.parse(o.expiresAt),
    {
      message: 'requested after it expires',
      path: ['requestedAt'],
    },
  );

/** Ceremony states (see docs/protocol.md "Ceremony state machine"). */
export const CEREMONY_STATES = [
  'open',
  'quorum',
  'expired',
  'cancelled',
  'failed',
  'completed',
] as const;

/** `update`: progress or state change of a ceremony the custodian takes part in. */
export const updateSchema = z.strictObject({
  v,
  type: z.literal('update'),
  ceremonyId: idSchema,
  state: z.enum(CEREMONY_STATES),
  progress: progressSchema,
  message: displayTextSchema(LIMITS.messageChars).optional(),
});

/** `result`: what the target answered to this custodian's authentication. */
export const resultSchema = z.strictObject({
  v,
  type: z.literal('result'),
  ceremonyId: idSchema,
  offerId: idSchema,
  outcome: z.enum(['accepted', 'refused']),
  /** SW of EXTERNAL AUTHENTICATE at the target, or of the step that failed. */
  sw: swSchema,
  progress: progressSchema,
  reason: displayTextSchema(LIMITS.reasonChars).optional(),
});

/** `error`: a request could not be served. */
export const errorSchema = z.strictObject({
  v,
  type: z.literal('error'),
  code: codeSchema,
  message: displayTextSchema(LIMITS.messageChars),
  ceremonyId: idSchema.optional(),
  offerId: idSchema.optional(),
});

/** `ping`: heartbeat; answer with `pong` and the same nonce. */
export const pingSchema = z.strictObject({ v, type: z.literal('ping'), nonce: idSchema });

/** Schema of each server → client message type. */
export const SERVER_MESSAGE_SCHEMAS = {
  welcome: welcomeSchema,
  offer: offerSchema,
  update: updateSchema,
  result: resultSchema,
  error: errorSchema,
  ping: pingSchema,
} as const;

/** `welcome` message. */
export type WelcomeMessage = z.infer<typeof welcomeSchema>;
/** `offer` message. */
export type OfferMessage = z.infer<typeof offerSchema>;
/** `update` message. */
export type UpdateMessage = z.infer<typeof updateSchema>;
/** `result` message. */
export type ResultMessage = z.infer<typeof resultSchema>;
/** `error` message. */
export type ErrorMessage = z.infer<typeof errorSchema>;
/** `ping` message. */
export type PingMessage = z.infer<typeof pingSchema>;
/** Ceremony progress. */
export type Progress = OfferMessage['progress'];
/** Any server → client message. */
export type ServerMessage =
  WelcomeMessage | OfferMessage | UpdateMessage | ResultMessage | ErrorMessage | PingMessage;
