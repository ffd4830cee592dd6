/**
 * PIN records: salted SHA-256 digests compared in constant time, with retry counters
 * (docs/card-reference.md §3.1–§3.3). The state file therefore never holds a PIN in clear.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { concatBytes, constantTimeEqual } from '../../shared/codec/bytes';
import { SW } from '../../shared/card/status-words';
import { SwError } from './reply';
import type { PinRecord } from './state';

/** User PIN length bounds (docs/card-reference.md §3.1: 6–16 bytes). */
export const USER_PIN_MIN = 6;
/** Longest user PIN. */
export const USER_PIN_MAX = 16;
/** The SO-PIN / initialization code is 8 binary bytes (docs/card-reference.md §3.2). */
export const SO_PIN_LENGTH = 8;
/** SO-PIN retry counter (genuine devices use 15). */
export const SO_PIN_RETRIES = 15;

const digest = (salt: Uint8Array, pin: Uint8Array): Uint8Array => sha256(concatBytes(salt, pin));

/** A new PIN record with a full retry counter. */
export function createPin(pin: Uint8Array, maxRetries: number): PinRecord {
  const salt = randomBytes(16);
  return { salt, hash: digest(salt, pin), length: pin.length, retries: maxRetries, maxRetries };
}

/** True when `candidate` is the PIN (no counter change). */
export function pinMatches(record: PinRecord, candidate: Uint8Array): boolean {
  return (
    candidate.length === record.length &&
    constantTimeEqual(digest(record.salt, candidate), record.hash)
  );
}

/** SW for a PIN status query: `63Cx` or `6983` when blocked. */
export function pinStatusSw(record: PinRecord): number {
  return record.retries === 0 ? SW.AUTH_METHOD_BLOCKED : 0x63c0 | Math.min(record.retries, 15);
}

/**
 * Checks a PIN against its record, updating the counter: success resets it, failure decrements
 * it. Throws `6983` when blocked, `63Cx` on a wrong PIN. `persist` is called on any change.
 */
export function presentPin(record: PinRecord, candidate: Uint8Array, persist: () => void): void {
  if (record.retries === 0) throw new SwError(SW.AUTH_METHOD_BLOCKED, 'PIN blocked');
  if (pinMatches(record, candidate)) {
    if (record.retries !== record.maxRetries) {
      record.retries = record.maxRetries;
      persist();
    }
    return;
  }
  record.retries -= 1;
  persist();
  throw new SwError(pinStatusSw(record), 'wrong PIN');
}
