import { describe, expect, it } from 'vitest';
import { CeremonyContext, type CeremonySnapshot } from '../../../server/ceremonies/context';
import { ProgressCoalescer } from '../../../server/ceremonies/progress-coalescer';
import { hashSecret } from '../../../server/store/secrets';
import { openStore, type Store } from '../../../server/store/store';
import type { ServerMessage } from '../../../shared/protocol';

// Issue 12 §3: k approvals processed in one event-loop turn give every custodian of the target
// ONE progress update with the final count (not k), the last state is never lost, and phase
// changes (quorum, completed, …) are not held back.

const M = 20;
const K = 11;
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** A store with one open ceremony at target t1 and M enrolled custodians. */
function world() {
  const store = openStore(':memory:');
  for (let i = 0; i < M; i++) {
    store.custodians.insert({
      id: `cus-${i}`,
      name: `custodian-${i}`,
      target: 't1',
      keyChr: `UTCUST00001${String(i).padStart(5, '0')}`,
      keyId: 3,
      pka: Uint8Array.of(0x30, 0x00),
      credentialHash: hashSecret(`credential-${i}`.padEnd(43, 'x')),
      enrolledAt: '2026-01-01T00:00:00.000Z',
    });
  }
  store.ceremonies.insert({
    id: 'cer-1',
    target: 't1',
    purpose: 'p',
    requester: 'r',
    state: 'open',
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T01:00:00.000Z',
    n: K,
    m: M,
    deviceId: 'UTDEV0000100001',
    challenge: '0102030405060708',
  });
  const sent = new Map<string, ServerMessage[]>();
  const ctx = new CeremonyContext(
    store,
    new Map(),
    {
      send(id, message) {
        sent.set(id, [...(sent.get(id) ?? []), message]);
        return true;
      },
      isConnected: () => true,
    },
    () => undefined,
    () => new Date('2026-01-01T00:10:00.000Z'),
  );
  const snaps: CeremonySnapshot[] = [];
  ctx.watch((s) => void snaps.push(s));
  /** The card's count as the decision handler records it (runtime-state.ts). */
  const count = {
    get authenticated() {
      return ctx.authenticated('cer-1');
    },
    set authenticated(n: number) {
      ctx.setAuthenticated('cer-1', n);
    },
  };
  // As engine.request does: the opening goes out at once (a new phase).
  ctx.broadcast('cer-1', 'ceremony opened');
  if (sent.get('cus-0')?.length !== 1 || snaps.length !== 1) throw new Error('opening not sent');
  sent.clear();
  snaps.length = 0;
  /** Custodian i's approval as decisions.ts leaves it: stored, counted, broadcast. */
  const approve = (i: number) => {
    store.ceremonies.recordApproval({
      ceremonyId: 'cer-1',
      custodianId: `cus-${i}`,
      epoch: 1,
      outcome: 'approved',
      sw: '9000',
      time: 't',
    });
    count.authenticated++;
    ctx.broadcast('cer-1', `custodian-${i} approved`);
  };
  const updates = (id: string) =>
    (sent.get(id) ?? []).filter(
      (m): m is Extract<ServerMessage, { type: 'update' }> => m.type === 'update',
    );
  return { store, ctx, count, approve, updates, snaps };
}

function close(store: Store) {
  store.close();
}

describe('progress updates, coalesced per turn', () => {
  it('k approvals in one turn: one update per custodian, with the final count', async () => {
    const w = world();
    for (let i = 0; i < K - 1; i++) w.approve(i);
    expect(w.updates('cus-0')).toHaveLength(0); // held until the end of the turn
    await nextTurn();
    for (let c = 0; c < M; c++) {
      const u = w.updates(`cus-${c}`);
      expect(u).toHaveLength(1);
      expect(u[0]!.state).toBe('open');
      expect(u[0]!.progress.authenticated).toBe(K - 1);
      expect(u[0]!.progress.approvedBy).toHaveLength(K - 1);
    }
    // Every approval of the turn is named, in order.
    expect(w.updates('cus-0')[0]!.message).toMatch(/^custodian-0 approved; custodian-1 approved/);
    expect(w.snaps).toHaveLength(1);
    expect(w.snaps[0]!.progress.authenticated).toBe(K - 1);
    close(w.store);
  });

  it('never loses the last state: each later turn sends again, built when it is sent', async () => {
    const w = world();
    w.approve(0);
    w.approve(1);
    // A change after the last post of the turn is still in the update (read at send time).
    w.count.authenticated = 5;
    await nextTurn();
    expect(w.updates('cus-7').map((u) => u.progress.authenticated)).toEqual([5]);
    w.approve(2);
    await nextTurn();
    expect(w.updates('cus-7').map((u) => u.progress.authenticated)).toEqual([5, 6]);
    await nextTurn();
    expect(w.updates('cus-7')).toHaveLength(2); // nothing new, nothing sent
    close(w.store);
  });

  it('the approval that completes the quorum, then the quorum, go out at once', async () => {
    const w = world();
    for (let i = 0; i < K - 1; i++) w.approve(i);
    expect(w.updates('cus-0')).toHaveLength(0);
    // The n-th approval supersedes the waiting progress and is sent at once, still open, with
    // every approval in it (clients show approvals from the last open update).
    w.approve(K - 1);
    // Quorum (engine.onQuorum): stored, then broadcast; no turn passes in between.
    w.store.ceremonies.setState('cer-1', 'quorum', 't', 'quorum');
    w.ctx.broadcast('cer-1', 'quorum reached');
    for (let c = 0; c < M; c++) {
      const u = w.updates(`cus-${c}`);
      expect(u.map((x) => x.state)).toEqual(['open', 'quorum']);
      expect(u[0]!.progress.authenticated).toBe(K);
      expect(u[0]!.progress.approvedBy).toHaveLength(K);
      expect(u[0]!.message).toMatch(/^custodian-0 approved; .*custodian-10 approved$/);
      expect(u[1]!.message).toBe('quorum reached');
    }
    await nextTurn();
    expect(w.updates('cus-3')).toHaveLength(2); // the superseded progress is not sent late
    close(w.store);
  });

  it('a re-opening in a new epoch goes out at once, superseding the waiting progress', async () => {
    const w = world();
    w.approve(0);
    w.approve(1);
    w.store.ceremonies.newEpoch('cer-1', '1112131415161718');
    w.count.authenticated = 0;
    w.ctx.broadcast('cer-1', 'target reset; approvals must be given again');
    const u = w.updates('cus-4');
    expect(u).toHaveLength(1);
    expect(u[0]!.state).toBe('open');
    expect(u[0]!.progress.authenticated).toBe(0);
    expect(u[0]!.message).toMatch(/approvals must be given again$/);
    await nextTurn();
    expect(w.updates('cus-4')).toHaveLength(1);
    // Progress in the new epoch is coalesced again.
    w.approve(2);
    w.approve(3);
    expect(w.updates('cus-4')).toHaveLength(1);
    await nextTurn();
    expect(w.updates('cus-4').map((x) => x.progress.authenticated)).toEqual([0, 2]);
    close(w.store);
  });

  it('keeps ceremonies apart and reports a failing deferred send without stopping the others', () => {
    let flush: (() => void) | undefined;
    let broken = false;
    const sent: string[] = [];
    const failures: string[] = [];
    const c = new ProgressCoalescer(
      {
        send(id, message) {
          if (id === 'bad' && broken) throw new Error('store read failed');
          sent.push(`${id}:${message ?? ''}`);
        },
        phase: () => ({ key: 'open/1', open: true }),
        failed: (id, e) => void failures.push(`${id}: ${(e as Error).message}`),
      },
      (f) => {
        flush = f;
      },
    );
    // The first update of a phase goes out at once.
    for (const id of ['a', 'bad', 'b']) c.post(id, 'opened');
    expect(sent).toEqual(['a:opened', 'bad:opened', 'b:opened']);
    sent.length = 0;
    broken = true;
    c.post('a', 'one');
    c.post('bad', 'x');
    c.post('b');
    c.post('a', 'two');
    expect(sent).toEqual([]);
    flush!();
    expect(sent).toEqual(['a:one; two', 'b:']);
    expect(failures).toEqual(['bad: store read failed']);
  });
});
