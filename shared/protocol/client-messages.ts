/**
 * Messages the custodian client sends to the server (schemas and types).
 * @module
 */
import { z } from 'zod';
import {
  codeSchema,
  displayTextSchema,
  hexSchema,
  idSchema,
  keyIdSchema,
  secretSchema,
  swSchema,
} from './fields';
import { LIMITS, PROTOCOL_VERSION } from './limits';

const v = z.literal(PROTOCOL_VERSION);

/** First contact: an enrollment token is exchanged for a session credential. */
export const enrollAuthSchema = z.strictObject({
  kind: z.literal('enroll'),
  /** One-time token the administrator handed to the custodian out of band. */
  token: secretSchema,
  /** Hex of the custodian's .pka file (docs/card-reference.md §6.2); registration data, never transport auth. */
  pka: hexSchema(1, LIMITS.pkaBytes),
  /** Key id of the PKA key on the custodian card. */
  keyId: keyIdSchema,
});

/** Later contacts: the credential issued in `welcome`. */
export const sessionAuthSchema = z.strictObject({
  kind: z.literal('session'),
  custodianId: idSchema,
  credential: secretSchema,
});

/** `hello`: the first frame on every connection. */
export const helloSchema = z.strictObject({
  v,
  type: z.literal('hello'),
  client: z.strictObject({
    name: displayTextSchema(LIMITS.nameChars),
    version: z.string().regex(/^[0-9A-Za-z.+-]{1,32}$/, 'must be a version like 1.2.3'),
  }),
  auth: z.discriminatedUnion('kind', [enrollAuthSchema, sessionAuthSchema]),
});

/** One script step: the card's response APDU, or the firewall's refusal (not sent to the card). */
export const scriptResultSchema = z.union([
  z.strictObject({ rapdu: hexSchema(2, LIMITS.responseApduBytes) }),
  z.strictObject({
    blocked: z.strictObject({
      sw: swSchema,
      rule: codeSchema,
      reason: displayTextSchema(LIMITS.reasonChars),
    }),
  }),
]);

/** Why a custodian declined an offer. */
export const DECLINE_REASONS = [
  'user-declined',
  'offer-invalid',
  'script-refused',
  'card-unavailable',
  'pin-failed',
  'expired',
] as const;

/** `decision`: the custodian's answer to one offer. */
export const decisionSchema = z.strictObject({
  v,
  type: z.literal('decision'),
  ceremonyId: idSchema,
  offerId: idSchema,
  decision: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('approve'),
      results: z.array(scriptResultSchema).min(1).max(LIMITS.scriptApdus),
    }),
    z.strictObject({
      kind: z.literal('decline'),
      reason: z.enum(DECLINE_REASONS),
      detail: displayTextSchema(LIMITS.reasonChars).optional(),
    }),
  ]),
});

/** `pong`: answer to `ping`, echoing its nonce. */
export const pongSchema = z.strictObject({ v, type: z.literal('pong'), nonce: idSchema });

/** Schema of each client → server message type. */
export const CLIENT_MESSAGE_SCHEMAS = {
  hello: helloSchema,
  decision: decisionSchema,
  pong: pongSchema,
} as const;

/** `hello` message. */
export type HelloMessage = z.infer<typeof helloSchema>;
/** `decision` message. */
export type DecisionMessage = z.infer<typeof decisionSchema>;
/** `pong` message. */
export type PongMessage = z.infer<typeof pongSchema>;
/** One entry of `decision.results`. */
export type ScriptResult = z.infer<typeof scriptResultSchema>;
/** A decline reason. */
export type DeclineReason = (typeof DECLINE_REASONS)[number];
/** Any client → server message. */
export type ClientMessage = HelloMessage | DecisionMessage | PongMessage;
