import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditLog } from '../../../../core/audit/audit-log';
import { createCustodianEngine } from '../../../../core/custodian/engine';
import type { AuditAppender, EngineEvent } from '../../../../core/custodian/engine-types';
import { createWsConnector } from '../../../../core/net/ws-transport';
import {
  anchorOf,
  custodianCard,
  fakeServer,
  makeOffer,
  PIN,
  targetDevice,
  typedPin,
} from '../../../integration/custodian/harness';
import { shownRef } from '../../../integration/custodian/offer-ref';

// Per-APDU audit entries are written without fsync and synced once before the decision leaves
// (core/custodian/engine-approve.ts); a sync that fails must keep the decision from leaving.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(failSync: boolean) {
  const server = await fakeServer();
  const card = await custodianCard(171);
  const log = openAuditLog(join(mkdtempSync(join(tmpdir(), 'sync-audit-')), 'audit.jsonl'));
  const order: string[] = [];
  const audit: AuditAppender = {
    append(kind, data, options) {
      order.push(`${kind}${options?.sync === false ? ' (deferred)' : ''}`);
      return log.append(kind, data, options);
    },
    sync() {
      order.push('sync');
      if (failSync) throw new Error('disk full');
      log.sync();
    },
  };
  const events: EngineEvent[] = [];
  const engine = createCustodianEngine({
    url: server.url,
    connector: createWsConnector(),
    auth: { kind: 'session', custodianId: 'cust-1', credential: 'C'.repeat(43) },
    anchors: [anchorOf()],
    ownKey: { keyId: card.key.keyId, chr: card.key.chr },
    openCard: card.openCard,
    audit,
    reconnect: false,
  });
  engine.on((e) => events.push(e));
  engine.start();
  cleanups.push(
    () => engine.stop(),
    () => log.close(),
    () => server.close(),
  );
  await server.next((m) => m.type === 'hello');
  for (let i = 0; i < 500 && !events.some((e) => e.type === 'offer-added'); i++) {
    if (i === 0)
      server.broadcast(makeOffer(targetDevice(601), { keyId: card.key.keyId, chr: card.key.chr }));
    await new Promise((r) => setTimeout(r, 5));
  }
  const offer = events.find((e) => e.type === 'offer-added');
  if (!offer || offer.type !== 'offer-added') throw new Error('offer not seen');
  return { server, engine, order, ceremonyId: offer.offer.ceremonyId };
}

describe('engine: audit durability around the script', () => {
  it('syncs the deferred APDU entries once, after the script and before the decision', async () => {
    const t = await setup(false);
    const outcome = await t.engine.approve(shownRef(t.engine, t.ceremonyId), typedPin(PIN).source);
    expect(outcome.kind).toBe('approved');
    await t.server.next((m) => m.type === 'decision');
    const forwarded = t.order.indexOf('apdu-forwarded (deferred)');
    expect(t.order.indexOf('approval')).toBeGreaterThanOrEqual(0);
    expect(t.order.indexOf('approval')).toBeLessThan(forwarded);
    expect(t.order.indexOf('sync', forwarded)).toBeGreaterThan(forwarded);
  });

  it('sends no decision when the audit log cannot be synced', async () => {
    const t = await setup(true);
    const outcome = await t.engine.approve(shownRef(t.engine, t.ceremonyId), typedPin(PIN).source);
    expect(outcome).toMatchObject({ kind: 'refused', message: /audit log cannot be written/ });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.server.messages.filter((m) => m.type === 'decision')).toEqual([]);
  });
});
