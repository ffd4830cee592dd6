/**
 * The custodian endpoint's edge (docs/protocol.md §2, §3, §5.5, §10): subprotocol required,
 * hello first and in time, every frame schema-checked, oversized and binary frames refused,
 * heartbeat; a violation closes only its own connection.
 */
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../../server/app';
import { PROTOCOL_NAME } from '../../../shared/protocol';
import {
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  type CustodianCard,
  type TargetHandle,
} from './harness';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

let cust: CustodianCard;
beforeAll(async () => {
  cust = await custodianCard();
});

async function start(deps: Parameters<typeof startTestServer>[3] = {}) {
  const target: TargetHandle = { card: await targetCard(2, 1), opens: 0, fail: false };
  server = await startTestServer(target, dataDir(), {}, deps);
}

type Conn = { ws: WebSocket; frames: string[]; closed: Promise<{ code: number }> };

async function open(protocols: string[] = [PROTOCOL_NAME]): Promise<Conn> {
  const ws = new WebSocket(server!.wsUrl, protocols);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  const closed = new Promise<{ code: number }>((r) => ws.on('close', (code) => r({ code })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed };
}

describe('custodian endpoint', () => {
  it('refuses a handshake without the custodian.v1 subprotocol', async () => {
    await start();
    await expect(open(['other'])).rejects.toThrow();
  });

  it('closes 4002 with not-authenticated when the first frame is not hello', async () => {
    await start();
    const c = await open();
    c.ws.send(JSON.stringify({ v: 1, type: 'pong', nonce: 'abc' }));
    expect((await c.closed).code).toBe(4002);
    expect(c.frames.map((f) => JSON.parse(f).code)).toEqual(['not-authenticated']);
  });

  it('closes 4002 on invalid JSON, unknown types, extra fields and binary frames', async () => {
    await start();
    for (const bad of [
      'not json',
      '{"v":1,"type":"launch"}',
      '{"v":1,"type":"pong","nonce":"a","x":1}',
    ]) {
      const c = await open();
      c.ws.send(bad);
      expect((await c.closed).code).toBe(4002);
      expect(JSON.parse(c.frames[0]!).code).toBe('invalid-message');
    }
    const b = await open();
    b.ws.send(Buffer.from([1, 2, 3]));
    expect((await b.closed).code).toBe(4002);
  });

  it('closes 4006 on another protocol version', async () => {
    await start();
    const c = await open();
    c.ws.send(JSON.stringify({ v: 2, type: 'hello' }));
    expect((await c.closed).code).toBe(4006);
  });

  it('refuses frames above 64 KiB', async () => {
    await start();
    const c = await open();
    c.ws.send('x'.repeat(70_000));
    expect([1009, 4002]).toContain((await c.closed).code);
  });

  it('closes 4005 when no hello arrives in time, and pings authenticated sessions', async () => {
    await start({ heartbeatSeconds: 5, helloTimeoutSeconds: 1 });
    const a = await enroll(server!, cust, 'alice');
    const c = await open();
    expect((await c.closed).code).toBe(4005);
    const ping = await a.waitFor((m) => m.type === 'ping', 7000);
    expect(ping.type).toBe('ping');
    a.close();
  }, 20_000);

  // Issue 7 item 5 reversed the old "refuses an address after repeated violations": a
  // violation closes its own connection only (NAT and proxies put many people on one address).
  it('closes each violating connection but never refuses the address', async () => {
    await start();
    for (let i = 0; i < 10; i++) {
      const c = await open();
      c.ws.send('garbage');
      expect((await c.closed).code).toBe(4002);
    }
    const c = await open();
    c.ws.send('garbage');
    expect((await c.closed).code).toBe(4002);
    expect(JSON.parse(c.frames[0]!).code).toBe('invalid-message');
  });

  it('survives arbitrary frames: every connection ends with a protocol close, the server keeps serving', async () => {
    await start();
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          v: fc.constant(1),
          type: fc.constantFrom('hello', 'decision', 'pong'),
          extra: fc.jsonValue(),
        })
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(frame, async (text) => {
        const c = await open();
        c.ws.send(text);
        const { code } = await c.closed;
        expect([4001, 4002, 4006]).toContain(code);
      }),
      { numRuns: 25 },
    );
    const health = await fetch(`${server!.url}/api/health`);
    expect(health.status).toBe(200);
  }, 30_000);
});
