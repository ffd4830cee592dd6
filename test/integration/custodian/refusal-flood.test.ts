import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  REJECTION_AUDIT_LIMIT,
  SUSPICIOUS_REFUSALS,
} from '../../../core/custodian/rejection-guard';
import type { ClientMessage, OfferMessage } from '../../../shared/protocol/index';
import { custodianCard, fakeServer, makeOffer, startEngine, targetDevice } from './harness';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function auditLines(path: string): { kind: string; data: Record<string, unknown> }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { kind: string; data: Record<string, unknown> });
}

describe('issue 7 item 8: refused offers cannot grow the audit log without bound', () => {
  it('7.8 1,000 refused offers: bounded audit, summary adds up, server disconnected for good', async () => {
    const server = await fakeServer();
    const card = await custodianCard();
    const t = startEngine({
      url: server.url,
      openCard: card.openCard,
      keyId: card.key.keyId,
      keyChr: card.key.chr,
    });
    cleanups.push(
      () => t.engine.stop(),
      () => t.audit.close(),
      () => server.close(),
    );
    await t.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
    const target = targetDevice();
    // Well-formed but refused: the script carries a command the firewall blocks.
    const offers: OfferMessage[] = [];
    for (let i = 0; i < 1000; i++) {
      const o = makeOffer(target, { keyId: card.key.keyId, chr: card.key.chr });
      offers.push({ ...o, script: { apdus: ['0044000000', ...o.script.apdus] } });
    }
    for (const o of offers) server.broadcast(o);
    await t.next((e) => e.type === 'server-suspicious');
    await t.next((e) => e.type === 'connection' && e.state.kind === 'stopped');

    const lines = auditLines(t.auditPath);
    const rejected = lines.filter((l) => l.kind === 'offer-rejected');
    const summaries = lines.filter((l) => l.kind === 'offers-rejected-summary');
    const blocked = lines.filter((l) => l.kind === 'apdu-blocked');
    expect(rejected).toHaveLength(REJECTION_AUDIT_LIMIT);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.kind === 'server-suspicious')).toHaveLength(1);
    // Bounded: the individual entries, their blocked commands, a summary, the verdict, and
    // the connection entries (versus 3,001 before).
    expect(lines.length).toBeLessThanOrEqual(2 * REJECTION_AUDIT_LIMIT + summaries.length + 4);
    const summed = summaries.reduce((n, s) => n + Number(s.data['count']), 0);
    const seen = t.events.filter((e) => e.type === 'offer-rejected').length;
    expect(rejected.length + summed).toBe(seen);
    expect(seen).toBe(SUSPICIOUS_REFUSALS);
    const blockedSummed = summaries.reduce((n, s) => n + Number(s.data['blockedCommands']), 0);
    expect(blocked.length + blockedSummed).toBe(seen);
    for (const s of summaries)
      expect(s.data['byCode']).toEqual({ 'script-refused': Number(s.data['count']) });
    const ev = t.events.find((e) => e.type === 'server-suspicious');
    expect(ev).toMatchObject({ refusedCount: SUSPICIOUS_REFUSALS });
    // Every refused offer that was seen is declined, after its audit entry.
    const declined = server.messages.filter(
      (m: ClientMessage) => m.type === 'decision' && m.decision.kind === 'decline',
    );
    expect(declined).toHaveLength(seen);

    // No reconnect: the server sees one hello, even after the back-off would have fired.
    await new Promise((r) => setTimeout(r, 600));
    expect(server.messages.filter((m) => m.type === 'hello')).toHaveLength(1);
    expect(t.engine.connection.kind).toBe('stopped');
  }, 120_000);
});
