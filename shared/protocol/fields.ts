/**
 * Field schemas shared by all messages: ids, secrets, hex, CHRs, timestamps and untrusted
 * display text. Each schema carries its limit from {@link LIMITS}.
 * @module
 */
import { z } from 'zod';
import { LIMITS } from './limits';
import { hasForbiddenDisplayCharacter } from '../text/display-text';

/** Opaque identifier (ceremonyId, offerId, custodianId, nonce): `[A-Za-z0-9_-]{1,64}`. */
export const idSchema = z
  .string()
  .max(LIMITS.idMaxChars)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be 1–64 characters of A–Z a–z 0–9 _ -');

/** Enrollment token or session credential: base64url alphabet, 22–256 characters. */
export const secretSchema = z
  .string()
  .min(LIMITS.secretMinChars)
  .max(LIMITS.secretMaxChars)
  .regex(/^[A-Za-z0-9_-]+$/, 'must use the base64url alphabet');

/** Lower-case hex of `minBytes`..`maxBytes` bytes (no separators). */
export function hexSchema(minBytes: number, maxBytes: number) {
  return z
    .string()
    .min(minBytes * 2)
    .max(maxBytes * 2)
    .regex(/^(?:[0-9a-f]{2})*$/, 'must be lower-case hex with an even number of digits');
}

/** A card holder reference: 1–16 printable ASCII characters without space (docs/card-reference.md §4.1). */
export const chrSchema = z
  .string()
  .max(LIMITS.chrMaxChars)
  .regex(/^[\x21-\x7e]+$/, 'must be 1–16 printable ASCII characters');

/** Key id on a SmartCard-HSM: 1–255 (0 is the device key, docs/card-reference.md §2.2). */
export const keyIdSchema = z.int().min(1).max(255);

/** A status word SW1 SW2 as one number. */
export const swSchema = z.int().min(0).max(0xffff);

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/** True when `text` names a real instant (rejects 2026-02-30 and 25:00). */
function isRealInstant(text: string): boolean {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return false;
  return new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}

/** ISO-8601 UTC timestamp `YYYY-MM-DDTHH:MM:SS[.fff]Z`. */
export const timestampSchema = z
  .string()
  .max(24)
  .regex(ISO_UTC, 'must be an ISO-8601 UTC timestamp like 2026-01-31T12:00:00Z')
  .refine(isRealInstant, 'is not a real date and time');

// The character rule lives in a zod-free module the renderer can use too.
export { hasForbiddenDisplayCharacter };

/** Untrusted display text of 1..`max` UTF-16 code units, not blank, no control/format characters. */
export function displayTextSchema(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !hasForbiddenDisplayCharacter(s), 'contains control or format characters')
    .refine((s) => s.trim().length > 0, 'must not be blank');
}

/** A firewall rule id or error code: `[a-z][a-z0-9-]{0,63}`. */
export const codeSchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lower-case code');

/** n-of-m quorum (docs/card-reference.md §6.1): 1 ≤ n ≤ m ≤ 255. */
export const quorumSchema = z
  .strictObject({
    n: z.int().min(1).max(LIMITS.quorumMax),
    m: z.int().min(1).max(LIMITS.quorumMax),
  })
  .refine((q) => q.n <= q.m, { message: 'n must not exceed m', path: ['n'] });

/** Ceremony progress: custodians authenticated at the target and who approved. */
export const progressSchema = z.strictObject({
  authenticated: z.int().min(0).max(LIMITS.quorumMax),
  approvedBy: z.array(displayTextSchema(LIMITS.nameChars)).max(LIMITS.quorumMax),
});
