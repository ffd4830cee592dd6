/**
 * Requests on the module socket (docs/pkcs11.md "Wire format"), validated with zod before use.
 * A connection starts with `hello` (the client's credential); everything else needs it.
 * @module
 */
import { z } from 'zod';
import { displayTextSchema } from '../../shared/protocol';

const target = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const text = displayTextSchema(200);
const hex = z
  .string()
  .max(32 * 1024 * 1024)
  .regex(/^(?:[0-9a-f]{2})*$/, 'lower-case hex');

const hello = z
  .object({
    v: z.literal(1),
    op: z.literal('hello'),
    credential: z.string().max(128),
    requester: text.optional(),
  })
  .strict();

const slots = z.object({ v: z.literal(1), op: z.literal('slots') }).strict();
const objects = z.object({ v: z.literal(1), op: z.literal('objects'), target }).strict();
const login = z
  .object({ v: z.literal(1), op: z.literal('login'), target, purpose: text, requester: text })
  .strict();
const sign = z
  .object({
    v: z.literal(1),
    op: z.literal('sign'),
    target,
    keyRef: z.number().int().min(1).max(255),
    mechanism: z.number().int().min(0).max(0xffffffff),
    pss: z
      .object({
        hashAlg: z.number().int().min(0).max(0xffffffff),
        mgf: z.number().int().min(0).max(0xffffffff),
        sLen: z.number().int().min(0).max(0xffffffff),
      })
      .strict()
      .optional(),
    data: hex,
  })
  .strict();

/** Any request. */
export const requestSchema = z.discriminatedUnion('op', [hello, slots, objects, login, sign]);

/** A validated request. */
export type Request = z.infer<typeof requestSchema>;
/** A validated sign request. */
export type SignRequest = z.infer<typeof sign>;
