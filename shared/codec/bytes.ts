/**
 * Byte helpers for Uint8Array (shared/ uses no Buffer so it runs in the browser too).
 * @module
 */

const HEX = '0123456789abcdef';

/** Lower-case hex of the bytes, no separators. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/**
 * Parses hex; spaces, colons and newlines are ignored. Throws on odd length or a non-hex digit:
 * use it for constants and trusted input; validate untrusted text with {@link isHex} first.
 */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (!isHex(clean)) throw new Error('invalid hex string');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** True for an even-length string of hex digits (no separators). */
export function isHex(text: string): boolean {
  return text.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(text);
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Byte-wise equality (not constant time; use for public data only). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Constant-time equality for secrets of equal, public length. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** ASCII bytes of a string; throws on a code point above 0x7F. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new Error('non-ASCII character');
    out[i] = c;
  }
  return out;
}

/** Decodes ASCII/Latin-1 bytes to a string (one char per byte, never throws). */
export function bytesToAscii(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/** True when every byte is printable ASCII (0x20..0x7E). */
export function isPrintableAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return false;
  return true;
}

/** Big-endian unsigned integer of up to 6 bytes. */
export function readUint(bytes: Uint8Array): number {
  if (bytes.length > 6) throw new Error('integer too long');
  let v = 0;
  for (const b of bytes) v = v * 256 + b;
  return v;
}

/** Big-endian encoding of a non-negative integer in exactly `len` bytes. */
export function writeUint(value: number, len: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 256 ** len) {
    throw new Error(`value ${value} does not fit in ${len} bytes`);
  }
  const out = new Uint8Array(len);
  for (let i = len - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  return out;
}

/** Overwrites a buffer with zeros (for PINs and other secrets when done). */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}
