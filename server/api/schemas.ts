/**
 * Request body schemas of the admin API (zod) and the one parser that turns a violation into
 * a 400 with the first failing field.
 * @module
 */
import { z } from 'zod';
import {
  parseSigningKeyType,
  SIGNING_KEY_CURVES,
  SIGNING_KEY_TYPES,
  type SigningKeyCurve,
  type SigningKeyType,
} from '../../core/sc-hsm/signing-keys';
import { displayTextSchema } from '../../shared/protocol';
import { MAX_EXPIRY_SECONDS } from '../ceremonies/engine';
import { HttpError } from './http-util';

/** Custodian name (shown to other custodians as display text). */
export const nameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}$/, 'use 1–100 letters, digits, space . _ @ -');
const hex = (max: number) =>
  z
    .string()
    .max(2 * max)
    .regex(/^(?:[0-9a-fA-F]{2})+$/, 'must be hex');

/** `POST /api/targets/:t/initialize`. */
export const initSchema = z
  .strictObject({
    m: z.int().min(1).max(90),
    n: z.int().min(1).max(90),
    soPin: z
      .string()
      .regex(/^[0-9A-Fa-f]{16}$/, 'SO-PIN must be 16 hex digits')
      .optional(),
    replaceableKeys: z.boolean().optional(),
    pkaAndPin: z.boolean().optional(),
    userPin: z.string().min(6).max(16).optional(),
    dkekShares: z.int().min(0).max(255).optional(),
  })
  .refine((o) => o.n <= o.m, { message: 'n must not exceed m', path: ['n'] });

/** `POST /api/enrollments`. */
export const tokenSchema = z.strictObject({
  target: z.string(),
  name: nameSchema,
  expiresInSeconds: z
    .int()
    .min(60)
    .max(30 * 86_400)
    .optional(),
});
/** `POST /api/targets/:t/custodians`. */
export const pkaSchema = z.strictObject({ name: nameSchema, pka: hex(16 * 1024) });
/** `POST /api/targets/:name/reconcile`. */
export const reconcileSchema = z.strictObject({ acknowledge: z.boolean().optional() });
/** `POST /api/ceremonies`. */
export const ceremonySchema = z.strictObject({
  target: z.string(),
  purpose: displayTextSchema(500),
  requester: displayTextSchema(200),
  expiresInSeconds: z.int().min(10).max(MAX_EXPIRY_SECONDS).optional(),
});
/** `POST /api/targets/:t/sign`. */
export const signSchema = z.strictObject({
  key: z.string().min(1).max(64),
  digests: z
    .array(z.string().regex(/^[0-9a-fA-F]{64}$/, 'SHA-256 digest expected'))
    .min(1)
    .max(1000),
});

/**
 * A signing key's PRKD label (at most 64 bytes, docs/card-reference.md §2.3). Signing picks a key by label
 * or by a decimal id, so a label that reads as an id is refused.
 */
export const keyLabelSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._@:+/-]{0,63}$/, 'use 1–64 letters, digits, space . _ @ : + / -')
  .refine((l) => !/^\d{1,3}$/.test(l), 'a label of 1–3 digits would read as a key id');
/** `POST /api/targets/:t/keys`: generate a signing key inside the unlock window. */
export const keygenSchema = z.strictObject({
  label: keyLabelSchema,
  /** EC curve (the older field); `type` wins when both are given. */
  curve: z.enum(SIGNING_KEY_CURVES).default('brainpoolP256r1'),
  /** `ec:<curve>` or `rsa:2048|3072|4096` (docs/card-reference.md §15.6). */
  type: z.enum(SIGNING_KEY_TYPES).optional(),
});

/** The key type a parsed keygen body asks for. */
export function keygenType(body: {
  curve: SigningKeyCurve;
  type?: string | undefined;
}): SigningKeyType {
  return parseSigningKeyType(body.type ?? `ec:${body.curve}`)!;
}

/** Validates a body; throws HttpError 400 naming the first problem. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HttpError(
      400,
      `${i && i.path.length ? `${i.path.join('.')}: ` : ''}${i?.message ?? 'invalid request'}`,
    );
  }
  return r.data;
}
