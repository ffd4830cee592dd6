/**
 * Fault: the server process dies mid-ceremony (SIGKILL, no shutdown) and is started again.
 * Defined outcome (server/README.md "Volatile card state", docs/card-reference.md §6.7): the target forgot the
 * challenge and every authentication, so the open ceremony is re-opened in a new epoch with a
 * new challenge; every custodian, including the one who had approved, gets a new offer (new
 * offer id); only answers of the new epoch count, each once; the quorum is reachable. The
 * custodians' engines reconnect on their own with back-off. Nothing stored is lost: custodians,
 * credentials, the ceremony and the audit chain survive.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveState } from '../../../emulator/card/state-file';
import type { OfferMessage } from '../../../shared/protocol/index';
import { BIN, freePort, spawnNode, stopAll, type Child } from '../e2e/processes';
import { preparedTarget, startCustodian, typed, type Custodian } from '../e2e/world';
import { custodianCard, PIN, testCa } from '../server/harness';
import { removableCard } from './world';

const engines: Custodian[] = [];
afterAll(async () => {
  for (const e of engines) {
    e.engine.stop();
    e.audit.close();
  }
  await stopAll();
});

describe('fault: server restarted mid-ceremony', () => {
  it('re-opens the ceremony with a new challenge; approvals count once; quorum reached', async () => {
    const ca = testCa();
    const dir = mkdtempSync(join(tmpdir(), 'fault-restart-'));
    writeFileSync(join(dir, 'root.cvc'), ca.root.cvc);
    saveState(join(dir, 'target.json'), (await preparedTarget(ca, 43_001, 3, 2)).state);
    const port = await freePort();
    const config = join(dir, 'server.json');
    writeFileSync(
      config,
      JSON.stringify({
        listen: { host: '127.0.0.1', port },
        dataDir: './data',
        targets: [{ name: 't1', emulatorState: './target.json' }],
        trustAnchors: ['./root.cvc'],
        unlock: { maxSeconds: 60, maxSignatures: 5 },
        ceremonyDefaults: { expiresInSeconds: 900 },
      }),
    );
    const serve = async (): Promise<Child> => {
      const c = spawnNode('custodian-server serve', BIN.server, ['serve', '--config', config]);
      await c.waitFor(/custodian-server listening on/, 'listening', 30_000);
      return c;
    };
    let server = await serve();
    const base = `http://127.0.0.1:${port}`;
    const wsUrl = `ws://127.0.0.1:${port}/ws`;
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const token = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim();
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await res.json()) as T;
      if (res.status >= 300)
        throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    type Snap = {
      state: string;
      epoch: number;
      progress: { authenticated: number; approvedBy: string[] };
    };
    const cardAuth = async () =>
      (await api<{ pka: { authenticated: number } }>('GET', '/api/targets/t1')).pka.authenticated;

    // Three custodians enroll (attested), then run session engines as `custodian watch` does.
    const people: (Custodian & { card: ReturnType<typeof removableCard> })[] = [];
    for (const name of ['alice', 'bob', 'carol']) {
      const c = await custodianCard(ca);
      const card = removableCard(c.card);
      const { token } = await api<{ token: string }>('POST', '/api/enrollments', {
        target: 't1',
        name,
      });
      const key = { keyId: c.keyId, chr: c.chr };
      const enrolling = startCustodian({
        name,
        url: wsUrl,
        auth: { kind: 'enroll', token, pka: c.pka, keyId: c.keyId },
        ca,
        key,
        openCard: card.openCard,
      });
      const e = await enrolling.next((x) => x.type === 'enrolled', 'enrollment');
      enrolling.engine.stop();
      enrolling.audit.close();
      if (e.type !== 'enrolled') throw new Error('not enrolled');
      const session = startCustodian({
        name,
        url: wsUrl,
        auth: { kind: 'session', custodianId: e.custodianId, credential: e.credential },
        ca,
        key,
        openCard: card.openCard,
        backoff: { initialMs: 200, maxMs: 1000 },
      });
      engines.push(session);
      people.push({ ...session, card });
    }
    const [alice, bob] = [people[0]!, people[1]!];

    const cer = await api<{ id: string }>('POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'restart drill',
      requester: 'ops',
    });
    const offerOf = async (p: (typeof people)[number], not?: string): Promise<OfferMessage> => {
      const e = await p.next(
        (x) => x.type === 'offer-added' && x.offer.ceremonyId === cer.id && x.offer.offerId !== not,
        `${p.name} offer`,
        30_000,
      );
      if (e.type !== 'offer-added') throw new Error('no offer');
      return e.offer.verified.offer;
    };
    const first = await offerOf(alice);
    const bobFirst = await offerOf(bob);
    expect(bobFirst.challenge).toBe(first.challenge);
    expect((await alice.engine.approve(cer.id, typed(PIN).source)).kind).toBe('approved');
    const r1 = await alice.next(
      (x) => x.type === 'result' && x.result.offerId === first.offerId,
      'result',
    );
    expect(r1.type === 'result' && r1.result.progress.authenticated).toBe(1);
    expect(await cardAuth()).toBe(1);

    // Crash: no shutdown, no goodbye frames.
    expect(await server.stop('SIGKILL')).toBeNull();
    for (const p of people) {
      await p.next(
        (x) => x.type === 'connection' && x.state.kind === 'waiting',
        `${p.name} waiting`,
      );
    }
    server = await serve();

    const snap = await api<Snap>('GET', `/api/ceremonies/${cer.id}`);
    expect(snap).toMatchObject({ state: 'open', epoch: 2, progress: { authenticated: 0 } });
    expect(await cardAuth()).toBe(0);

    // Everybody reconnects on their own and gets a NEW offer with a NEW challenge.
    const second = await offerOf(alice, first.offerId);
    expect(second.challenge).not.toBe(first.challenge);
    const bobOffer = await offerOf(bob, bobFirst.offerId);
    expect(bobOffer.challenge).toBe(second.challenge);

    expect((await alice.engine.approve(cer.id, typed(PIN).source)).kind).toBe('approved');
    await alice.next((x) => x.type === 'result' && x.result.offerId === second.offerId, 'result 2');
    expect((await api<Snap>('GET', `/api/ceremonies/${cer.id}`)).progress.authenticated).toBe(1);
    expect(await cardAuth()).toBe(1);
    expect((await bob.engine.approve(cer.id, typed(PIN).source)).kind).toBe('approved');
    await bob.next((x) => x.type === 'result' && x.result.ceremonyId === cer.id, 'bob result');
    const done = await api<Snap>('GET', `/api/ceremonies/${cer.id}`);
    expect(done.state).toBe('quorum');
    expect(done.progress.authenticated).toBe(2);
    expect([...done.progress.approvedBy].sort()).toEqual(['alice', 'bob']);
    expect(await cardAuth()).toBe(2);
    // One signature per epoch on alice's card, each over its own challenge; bob signed once.
    expect(alice.card.signs()).toBe(2);
    expect(bob.card.signs()).toBe(1);

    // Nothing lost: the audit chain (from before the crash) still verifies.
    const audit = await api<{ verified: { entries: number } | null }>('GET', '/api/audit?limit=5');
    expect(audit.verified?.entries).toBeGreaterThan(10);
    expect(await server.stop('SIGTERM')).toBe(0);
  }, 180_000);
});
