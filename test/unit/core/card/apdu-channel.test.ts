import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import { ApduChannelError } from '../../../../core/card/processors';
import type { CardTransport } from '../../../../core/card/transport';
import {
  command,
  decodeCommandApdu,
  encodeResponseApdu,
  type DecodedCommandApdu,
  type ResponseApdu,
} from '../../../../shared/codec/apdu';
import { concatBytes, fromHex, toHex } from '../../../../shared/codec/bytes';
import { SC_HSM_ATR } from '../../../../shared/sc-hsm/constants';

type Handler = (cmd: DecodedCommandApdu, raw: Uint8Array) => ResponseApdu | Uint8Array;

/** A transport whose card is a function; records every raw APDU sent. */
function fakeTransport(handler: Handler, atr: Uint8Array = SC_HSM_ATR) {
  const sent: Uint8Array[] = [];
  const transport: CardTransport = {
    atr,
    async transmit(apdu) {
      sent.push(apdu);
      const d = decodeCommandApdu(apdu);
      if (!d.ok) throw new Error(`bad APDU sent: ${toHex(apdu)}`);
      const r = handler(d.value, apdu);
      return r instanceof Uint8Array ? r : encodeResponseApdu(r);
    },
    async reset() {
      return atr;
    },
    async close() {},
    async transaction(fn) {
      return fn();
    },
  };
  return { transport, sent };
}

const NO_EXT_ATR = fromHex('3B058073000000');
const bytes = (n: number, seed = 1) =>
  Uint8Array.from({ length: n }, (_, i) => (i * seed + 7) & 0xff);

describe('ApduChannel', () => {
  it('defaults extended length from the ATR', () => {
    expect(
      new ApduChannel(fakeTransport(() => ({ data: new Uint8Array(), sw: 0x9000 })).transport)
        .extendedLength,
    ).toBe(true);
    const { transport } = fakeTransport(() => ({ data: new Uint8Array(), sw: 0x9000 }), NO_EXT_ATR);
    expect(new ApduChannel(transport).extendedLength).toBe(false);
    expect(new ApduChannel(transport, { extendedLength: true }).extendedLength).toBe(true);
  });

  it('sends short and extended APDUs as encoded', async () => {
    const { transport, sent } = fakeTransport((c) => ({ data: c.data, sw: 0x9000 }));
    const ch = new ApduChannel(transport);
    const small = await ch.send(command(0x00, 0xa4, 0x04, 0x0c, fromHex('e82b06'), 256));
    expect(toHex(small.data)).toBe('e82b06');
    const big = bytes(3000);
    const r = await ch.send(command(0x80, 0x68, 1, 2, big, 65536));
    expect(toHex(r.data)).toBe(toHex(big));
    expect(sent[1]!.length).toBe(4 + 3 + 3000 + 2);
  });

  it('collects 61xx with GET RESPONSE and concatenates', async () => {
    const full = bytes(700, 3);
    let offset = 0;
    const { transport, sent } = fakeTransport((c) => {
      if (c.ins === 0xc0) {
        const n = Math.min(c.ne ?? 0, full.length - offset);
        const part = full.slice(offset, offset + n);
        offset += n;
        const left = full.length - offset;
        return { data: part, sw: left === 0 ? 0x9000 : 0x6100 | (Math.min(left, 256) & 0xff) };
      }
      offset = 200;
      return { data: full.slice(0, 200), sw: 0x6100 };
    });
    const r = await new ApduChannel(transport).send(command(0x01, 0xca, 0, 0, undefined, 256));
    expect(r.sw).toBe(0x9000);
    expect(toHex(r.data)).toBe(toHex(full));
    // GET RESPONSE keeps the logical channel (CLA 01 → 01 C0) and asks for what was announced.
    expect(toHex(sent[1]!)).toBe('01c0000000');
    expect(sent.length).toBe(3); // 200 + 256 + 244
  });

  it('bounds a card that answers 61xx forever', async () => {
    let calls = 0;
    const { transport } = fakeTransport(() => {
      calls += 1;
      return { data: bytes(256), sw: 0x6100 };
    });
    const err = await new ApduChannel(transport)
      .send(command(0, 0xca, 0, 0, undefined, 256))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApduChannelError);
    expect((err as ApduChannelError).code).toBe('response-too-long');
    expect(calls).toBeLessThan(300);
  });

  it('rejects a GET RESPONSE that announces more but returns nothing', async () => {
    const { transport } = fakeTransport(() => ({ data: new Uint8Array(), sw: 0x6110 }));
    await expect(new ApduChannel(transport).send(command(0, 0xca, 0, 0))).rejects.toMatchObject({
      code: 'response-too-long',
    });
  });

  it('corrects Le once on 6Cxx', async () => {
    const { transport, sent } = fakeTransport((c) =>
      c.ne === 0x12 ? { data: bytes(0x12), sw: 0x9000 } : { data: new Uint8Array(), sw: 0x6c12 },
    );
    const r = await new ApduChannel(transport).send(command(0, 0xb0, 0, 0, undefined, 256));
    expect(r.data.length).toBe(0x12);
    expect(sent.map(toHex)).toEqual(['00b0000000', '00b0000012']);
  });

  it('passes a second 6Cxx through instead of looping', async () => {
    const { transport, sent } = fakeTransport(() => ({ data: new Uint8Array(), sw: 0x6c05 }));
    const r = await new ApduChannel(transport).send(command(0, 0xb0, 0, 0, undefined, 10));
    expect(r.sw).toBe(0x6c05);
    expect(sent.length).toBe(2);
  });

  it('handles 6Cxx followed by 61xx', async () => {
    const { transport } = fakeTransport((c) => {
      if (c.ins === 0xc0) return { data: fromHex('cc'), sw: 0x9000 };
      return c.ne === 2
        ? { data: fromHex('aabb'), sw: 0x6101 }
        : { data: new Uint8Array(), sw: 0x6c02 };
    });
    const r = await new ApduChannel(transport).send(command(0, 0xb0, 0, 0, undefined, 256));
    expect(toHex(r.data)).toBe('aabbcc');
  });

  it('chains long data without extended length', async () => {
    const received: Uint8Array[] = [];
    const { transport, sent } = fakeTransport((c) => {
      received.push(c.data);
      if (c.cla & 0x10) return { data: new Uint8Array(), sw: 0x9000 };
      return { data: concatBytes(...received).subarray(0, 4), sw: 0x9000 };
    }, NO_EXT_ATR);
    const data = bytes(600);
    const r = await new ApduChannel(transport).send(command(0x80, 0x68, 0, 0, data, 256));
    expect(sent.map((a) => a[0])).toEqual([0x90, 0x90, 0x80]);
    expect(sent.map((a) => a.length)).toEqual([5 + 255, 5 + 255, 5 + 90 + 1]);
    expect(toHex(concatBytes(...received))).toBe(toHex(data));
    expect(toHex(r.data)).toBe(toHex(data.subarray(0, 4)));
  });

  it('honours maxShortData and stops when the card refuses a chained part', async () => {
    const { transport, sent } = fakeTransport(
      (c) => ({ data: new Uint8Array(), sw: c.cla & 0x10 ? 0x6884 : 0x9000 }),
      NO_EXT_ATR,
    );
    const ch = new ApduChannel(transport, { maxShortData: 100 });
    await expect(ch.send(command(0, 0xd7, 0, 0, bytes(250)))).rejects.toMatchObject({
      code: 'chaining-refused',
      sw: 0x6884,
    });
    expect(sent.length).toBe(1);
    expect(sent[0]!.length).toBe(105);
    expect(() => new ApduChannel(transport, { maxShortData: 0 })).toThrow(RangeError);
  });

  it('refuses Ne > 256 without extended length', async () => {
    const { transport, sent } = fakeTransport(
      () => ({ data: new Uint8Array(), sw: 0x9000 }),
      NO_EXT_ATR,
    );
    await expect(
      new ApduChannel(transport).send(command(0, 0xb0, 0, 0, undefined, 65536)),
    ).rejects.toMatchObject({
      code: 'ne-unsupported',
    });
    expect(sent.length).toBe(0);
  });

  it('reports malformed responses and encoding errors', async () => {
    const { transport } = fakeTransport(() => Uint8Array.of(0x90));
    await expect(new ApduChannel(transport).send(command(0, 0xb0, 0, 0))).rejects.toMatchObject({
      code: 'malformed-response',
    });
    const ok = fakeTransport(() => ({ data: new Uint8Array(), sw: 0x9000 }));
    await expect(
      new ApduChannel(ok.transport).send({
        cla: 0,
        ins: 0,
        p1: 0,
        p2: 0,
        data: new Uint8Array(),
        ne: 70000,
      }),
    ).rejects.toMatchObject({
      code: 'encode',
    });
  });

  it('passes transport errors through and keeps working afterwards', async () => {
    let fail = true;
    const { transport } = fakeTransport(() => {
      if (fail) throw new Error('boom');
      return { data: new Uint8Array(), sw: 0x9000 };
    });
    const ch = new ApduChannel(transport);
    await expect(ch.send(command(0, 0xb0, 0, 0))).rejects.toThrow('boom');
    fail = false;
    await expect(ch.send(command(0, 0xb0, 0, 0))).resolves.toMatchObject({ sw: 0x9000 });
  });

  it('serialises concurrent sends so chains never interleave', async () => {
    const log: string[] = [];
    const { transport } = fakeTransport((c) => {
      log.push(`${c.ins.toString(16)}:${c.cla.toString(16)}`);
      return { data: new Uint8Array(), sw: 0x9000 };
    }, NO_EXT_ATR);
    const slow: CardTransport = {
      ...transport,
      transmit: async (a) => {
        await new Promise((r) => setTimeout(r, 1));
        return transport.transmit(a);
      },
    };
    const ch = new ApduChannel(slow);
    await Promise.all([
      ch.send(command(0, 0x01, 0, 0, bytes(600))),
      ch.send(command(0, 0x02, 0, 0, bytes(600))),
    ]);
    expect(log).toEqual(['1:10', '1:10', '1:0', '2:10', '2:10', '2:0']);
  });

  it('delivers exactly what a GET RESPONSE card returns, for any split (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.integer({ min: 1, max: 256 }),
        async (full, chunk) => {
          let offset = 0;
          const { transport } = fakeTransport(() => {
            const part = full.slice(offset, offset + chunk);
            offset += part.length;
            const left = full.length - offset;
            return { data: part, sw: left === 0 ? 0x9000 : 0x6100 | (Math.min(left, 256) & 0xff) };
          });
          const r = await new ApduChannel(transport).send(command(0, 0xca, 0, 0, undefined, 256));
          expect(toHex(r.data)).toBe(toHex(full));
          expect(r.sw).toBe(0x9000);
        },
      ),
      { numRuns: 60 },
    );
  });
});
