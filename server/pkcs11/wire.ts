/**
 * The module socket's wire format (docs/pkcs11.md "Wire format"). Every frame is a 4-byte
 * big-endian length and a body. Requests (module → server) are JSON, validated with zod
 * (./requests.ts). Replies (server → module) are TLV items (1-byte tag, 4-byte big-endian
 * length, value), so the C module never has to parse JSON: its parser (pkcs11/src/reply.c) is
 * a bounded loop over fixed tags, small enough to fuzz exhaustively.
 * @module
 */

/** Largest request body: 16 MiB of buffered multi-part data as hex, plus the envelope. */
export const MAX_REQUEST_BYTES = 33 * 1024 * 1024 + 4096;

/** Largest reply body (the module refuses bigger frames: pkcs11/src/reply.h CP_MAX_FRAME). */
export const MAX_REPLY_BYTES = 1 << 20;

/** Reply tags (pkcs11/src/reply.h). */
export const TAG = {
  rv: 0x01,
  message: 0x02,
  client: 0x03,
  slot: 0x10,
  slotName: 0x11,
  slotLabel: 0x12,
  slotDevice: 0x13,
  slotFlags: 0x14,
  key: 0x20,
  keyRef: 0x21,
  keyType: 0x22,
  keyId: 0x23,
  keyLabel: 0x24,
  keyModulus: 0x25,
  keyExponent: 0x26,
  keyEcParams: 0x27,
  keyEcPoint: 0x28,
  keyCert: 0x29,
  keyCertSubject: 0x2b,
  keyCertIssuer: 0x2c,
  keyCertSerial: 0x2d,
  signature: 0x30,
  unlocked: 0x31,
} as const;

/** One TLV item. */
export function item(tag: number, value: Uint8Array | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const h = Buffer.alloc(5);
  h[0] = tag;
  h.writeUInt32BE(v.length, 1);
  return Buffer.concat([h, v]);
}

/** A 4-byte big-endian CK_RV item. */
export function rvItem(rv: number): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(rv >>> 0, 0);
  return item(TAG.rv, v);
}

/** Printable one-line text for the module's log (the module rejects control characters). */
export function printable(text: string, max = 500): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  const cut = Buffer.from(clean, 'utf8').subarray(0, max).toString('utf8');
  return cut.replace(/\uFFFD$/, '') || '-';
}

/** A framed reply: rv, optional message, then payload items. */
export function reply(rv: number, message?: string, ...items: Buffer[]): Buffer {
  const parts = [rvItem(rv)];
  if (message !== undefined) parts.push(item(TAG.message, printable(message)));
  const body = Buffer.concat([...parts, ...items]);
  if (body.length > MAX_REPLY_BYTES) throw new RangeError('reply too large for the module');
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length, 0);
  return Buffer.concat([h, body]);
}

/**
 * Splits a byte stream into frames. `push` returns the complete bodies received so far, or
 * throws a RangeError on a frame over `max` (the connection is then closed).
 */
export class FrameReader {
  // Typed as plain Buffer: concat and subarray return Buffer<ArrayBufferLike>.
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly max = MAX_REQUEST_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (this.buf.length < 4) return out;
      const len = this.buf.readUInt32BE(0);
      if (len === 0 || len > this.max) throw new RangeError(`frame of ${len} bytes refused`);
      if (this.buf.length < 4 + len) return out;
      out.push(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
  }
}
