/**
 * Interop: the real custodian engine (core/custodian, the code behind the CLI and the desktop
 * app) enrolls at this server, receives offers, and approves through its firewall with its
 * own card; the server reaches quorum from the target card's status.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditLog } from '../../../core/audit/audit-log';
import { createCustodianEngine, type CustodianEngine } from '../../../core/custodian/engine';
import type { EngineEvent } from '../../../core/custodian/engine-types';
import { createWsConnector } from '../../../core/net/ws-transport';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { asciiBytes } from '../../../shared/codec/bytes';
import { anchorFromCvc } from '../../../shared/cvc/chain';
import { unwrap } from '../../../shared/result';
import type { RunningServer } from '../../../server/app';
import {
  adminApi,
  custodianCard,
  dataDir,
  PIN,
  startTestServer,
  targetCard,
  testCa,
  type CustodianCard,
  type TargetHandle,
} from './harness';
import { shownRef } from '../custodian/offer-ref';

let server: RunningServer | undefined;
const engines: CustodianEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) e.stop();
  await server?.stop();
  server = undefined;
});

function startEngine(cust: CustodianCard, token: string) {
  const events: EngineEvent[] = [];
  const engine = createCustodianEngine({
    url: server!.wsUrl,
    connector: createWsConnector(),
    auth: { kind: 'enroll', token, pka: cust.pka, keyId: cust.keyId },
    anchors: [unwrap(anchorFromCvc(testCa().root.cvc, 'test root'))],
    ownKey: { keyId: cust.keyId, chr: cust.chr },
    openCard: async () => createInProcessTransport(cust.card),
    audit: openAuditLog(join(mkdtempSync(join(tmpdir(), 'interop-')), 'audit.jsonl')),
    backoff: { initialMs: 50, maxMs: 200 },
  });
  engine.on((e) => events.push(e));
  engine.start();
  engines.push(engine);
  const next = async (pred: (e: EngineEvent) => boolean, ms = 8000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`timeout; events ${events.map((e) => e.type).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { engine, events, next };
}

const pin = { kind: 'typed' as const, read: async () => asciiBytes(PIN) };

describe('custodian engine ↔ server', () => {
  it('enrolls two custodians and reaches 2-of-2 quorum through the real client', async () => {
    const target: TargetHandle = { card: await targetCard(2, 2), opens: 0, fail: false };
    server = await startTestServer(target, dataDir());
    const clients = [];
    for (const name of ['alice', 'bob']) {
      const cust = await custodianCard();
      const tok = (
        await adminApi<{ token: string }>(server, 'POST', '/api/enrollments', {
          target: 't1',
          name,
        })
      ).body.token;
      const c = startEngine(cust, tok);
      await c.next((e) => e.type === 'enrolled');
      clients.push(c);
    }
    const cer = (
      await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
        target: 't1',
        purpose: 'quarterly CRL',
        requester: 'ops',
      })
    ).body;
    for (const c of clients) {
      await c.next((e) => e.type === 'offer-added' && e.offer.ceremonyId === cer.id);
      expect(c.events.filter((e) => e.type === 'offer-rejected')).toEqual([]);
      const r = await c.engine.approve(shownRef(c.engine, cer.id), pin);
      expect(r.kind).not.toBe('refused');
      const res = await c.next((e) => e.type === 'result');
      expect(res.type === 'result' && res.result.outcome).toBe('accepted');
    }
    const snap = (
      await adminApi<{ state: string; progress: { authenticated: number } }>(
        server,
        'GET',
        `/api/ceremonies/${cer.id}`,
      )
    ).body;
    expect(snap).toMatchObject({ state: 'quorum', progress: { authenticated: 2 } });
  });
});
