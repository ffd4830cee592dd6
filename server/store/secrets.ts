/**
 * Bearer secrets (enrollment tokens, custodian credentials, the admin token): 256 random bits,
 * base64url. Only their SHA-256 is stored; with 256 bits of entropy a slow hash adds nothing,
 * and a stolen database then grants no access.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh random secret (32 bytes, base64url, 43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A fresh identifier (16 random bytes, hex). */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

/** SHA-256 of a secret, hex: the only form stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Shape check for a secret received from outside (before hashing or comparing). */
export function isWellFormedSecret(text: unknown): text is string {
  return typeof text === 'string' && /^[A-Za-z0-9_-]{43}$/.test(text);
}

/** Constant-time comparison of two secrets. */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(hashSecret(a), 'hex');
  const y = Buffer.from(hashSecret(b), 'hex');
  return timingSafeEqual(x, y);
}
