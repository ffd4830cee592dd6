/**
 * Issue 11 item 3: the server process is killed (SIGKILL) in the middle of a signing batch.
 * Every signature the target card made must be covered by a `sign-intent` audit entry stored
 * before the card signed, and the next start records the interrupted batch as
 * `sign-unresolved`; the audit chain verifies. The card's own count is its key use counter,
 * read from the emulator's state file (saved after every signature).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadState, saveState } from '../../../emulator/card/state-file';
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

const COUNTER = 1_000_000;
type Entry = { seq: number; event: string; data: Record<string, unknown> };

describe('fault: server killed mid signing batch', () => {
  it('11.3 every target signature is covered by an audited intent; the restart resolves the batch', async () => {
    const ca = testCa();
    const dir = mkdtempSync(join(tmpdir(), 'fault-sign-kill-'));
    writeFileSync(join(dir, 'root.cvc'), ca.root.cvc);
    const stateFile = join(dir, 'target.json');
    const state = (await preparedTarget(ca, 43_101, 2, 1)).state;
    // The use counter is the card's own record of how often key 1 signed.
    state.keys.get(1)!.useCounter = COUNTER;
    saveState(stateFile, state);
    const used = () => COUNTER - (loadState(stateFile).keys.get(1)!.useCounter ?? COUNTER);
    const port = await freePort();
    const config = join(dir, 'server.json');
    writeFileSync(
      config,
      JSON.stringify({
        listen: { host: '127.0.0.1', port },
        dataDir: './data',
        targets: [{ name: 't1', emulatorState: './target.json' }],
        trustAnchors: ['./root.cvc'],
        unlock: { maxSeconds: 600, maxSignatures: 5000 },
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
    const request = (method: string, path: string, body?: unknown) => {
      const token = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim();
      return fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    };
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await request(method, path, body);
      const json = (await res.json()) as T;
      if (res.status >= 300)
        throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

    // Two custodians enroll (m = 2), one approval unlocks (n = 1).
    let alice: Custodian | undefined;
    for (const name of ['alice', 'bob']) {
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
      if (name !== 'alice') continue;
      alice = startCustodian({
        name,
        url: wsUrl,
        auth: { kind: 'session', custodianId: e.custodianId, credential: e.credential },
        ca,
        key,
        openCard: card.openCard,
      });
      engines.push(alice);
    }
    const cer = await api<{ id: string }>('POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'sign drill',
      requester: 'ops',
    });
    await alice!.next(
      (x) => x.type === 'offer-added' && x.offer.ceremonyId === cer.id,
      'offer',
      30_000,
    );
    expect((await alice!.engine.approve(cer.id, typed(PIN).source)).kind).toBe('approved');
    for (;;) {
      const s = await api<{ state: string }>('GET', `/api/ceremonies/${cer.id}`);
      if (s.state === 'quorum') break;
      await new Promise((r) => setTimeout(r, 50));
    }

    // A large batch; the server dies while the card is signing it.
    const digests = Array.from({ length: 1000 }, () => randomBytes(32).toString('hex'));
    let answered: string | undefined;
    const inFlight = request('POST', '/api/targets/t1/sign', { key: '1', digests }).then(
      async (r) => {
        answered = `${r.status} ${(await r.text()).slice(0, 300)}`;
      },
      () => undefined,
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      let n = 0;
      try {
        n = used();
      } catch {
        // Read while being replaced: try again.
      }
      if (n >= 3) break;
      if (answered !== undefined || Date.now() > deadline)
        throw new Error(`the card did not sign in time (answer: ${answered ?? 'none'})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await server.stop('SIGKILL')).toBeNull();
    await inFlight;
    const signedByCard = used();
    expect(signedByCard).toBeGreaterThanOrEqual(3);
    expect(signedByCard).toBeLessThan(digests.length);

    server = await serve();
    const audit = await api<{ verified: { entries: number } | null; entries: Entry[] }>(
      'GET',
      '/api/audit?limit=1000',
    );
    expect(audit.verified).not.toBeNull();
    const intents = audit.entries.filter((e) => e.event === 'sign-intent');
    const covered = intents.flatMap((e) => e.data['digests'] as string[]);
    // Every signature the card made is covered by an intent stored before it signed.
    expect(covered.length).toBeGreaterThanOrEqual(signedByCard);
    expect(covered.slice(0, signedByCard)).toEqual(digests.slice(0, signedByCard));
    // The interrupted batch is resolved at the restart, once.
    const unresolved = audit.entries.filter((e) => e.event === 'sign-unresolved');
    expect(unresolved).toHaveLength(1);
    expect(unresolved[0]!.data['batchId']).toBe(intents[0]!.data['batchId']);
    expect(await server.stop('SIGTERM')).toBe(0);
    // A second start adds nothing more.
    server = await serve();
    const again = await api<{ entries: Entry[] }>('GET', '/api/audit?limit=1000');
    expect(again.entries.filter((e) => e.event === 'sign-unresolved')).toHaveLength(1);
    expect(await server.stop('SIGTERM')).toBe(0);
  }, 180_000);
});
