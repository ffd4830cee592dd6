/**
 * Ceremony benchmarks against the REAL server and the REAL custodian engine (the demo's
 * world: in-process target and five custodian cards, target 3-of-5, everyone enrolled):
 *  - WebSocket messages per custodian authentication after approval (approvers one at a time,
 *    so every frame in the window belongs to that authentication);
 *  - 3-of-5 ceremony time (request → quorum on the server) with custodians behind a loopback
 *    proxy adding a simulated round-trip time, against the protocol's lower bound.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminCall, type CeremonyView } from '../../demo/admin';
import { APPROVERS, connectAll } from '../../demo/ceremony-steps';
import { typedPin, type CustodianClient } from '../../demo/custodian';
import { inProcessHardware, type Hardware } from '../../demo/hardware';
import { createReporter } from '../../demo/report';
import {
  enrollAll,
  initializeTarget,
  serverUp,
  TARGET,
  testPki,
  type DemoContext,
} from '../../demo/setup-steps';
import type { RunningServer } from '../../server/app';
import { startDelayProxy } from './delay-proxy';
import { median, summarize, type Summary } from './stats';
import { shownRef } from '../integration/custodian/offer-ref';
import { refOf } from '../../core/custodian/engine-types';

/** Messages of one custodian authentication, counted from the approval to the `result`. */
export type RoundTrips = {
  /** Client → server messages (the decision). */
  readonly sent: number;
  /** Server → client messages up to and including the `result`. */
  readonly received: number;
  /** Request/answer exchanges on the wire. */
  readonly roundTrips: number;
  readonly types: string;
};

/** Ceremony timing (milliseconds). */
export type CeremonyTiming = {
  readonly rttMs: number;
  readonly runs: number;
  /** request → quorum, custodians directly on loopback. */
  readonly zero: Summary;
  /** request → quorum, custodians behind the delaying proxy. */
  readonly delayed: Summary;
  /** median(zero) + 1 RTT (see {@link benchCeremony}). */
  readonly lowerBound: number;
  readonly ratio: number;
};

type World = { ctx: DemoContext; hw: Hardware; server: RunningServer };

async function world(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ceremony-'));
  const ctx: DemoContext = {
    r: createReporter(() => undefined),
    dir,
    frames: [],
    serverLog: [],
    credentials: new Map(),
  };
  const { ca, anchorFile } = testPki(ctx);
  const hw = await inProcessHardware(ca);
  ctx.hw = hw;
  const server = await serverUp(ctx, hw, anchorFile);
  await initializeTarget(ctx, server);
  await enrollAll(ctx, server, hw);
  return { ctx, hw, server };
}

const pinOf = (w: World, name: string) => w.hw.custodians.find((c) => c.name === name)!.pin;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests a ceremony; resolves with its id once every client holds its offer. */
async function request(w: World, clients: readonly CustodianClient[]): Promise<string> {
  const c = await adminCall<CeremonyView>(w.server, 'POST', '/api/ceremonies', {
    target: TARGET,
    purpose: 'bench',
    requester: 'bench',
  });
  for (const cl of clients)
    await cl.next(
      (e): e is typeof e => e.type === 'offer-added' && e.offer.ceremonyId === c.id,
      'offer',
    );
  return c.id;
}

/** Ends a ceremony at quorum by resetting the target; waits until every client dropped the offer. */
async function finish(w: World, clients: readonly CustodianClient[], id: string): Promise<void> {
  await adminCall(w.server, 'POST', `/api/targets/${TARGET}/lock`);
  for (const cl of clients)
    await cl.next((e): e is typeof e => e.type === 'offer-removed' && e.ceremonyId === id, 'end');
}

async function countRoundTrips(
  w: World,
  clients: readonly CustodianClient[],
): Promise<RoundTrips[]> {
  const id = await request(w, clients);
  const out: RoundTrips[] = [];
  for (const name of APPROVERS) {
    const cl = clients.find((c) => c.name === name)!;
    const from = w.ctx.frames.length;
    const offerId = cl.engine.offers().find((o) => o.ceremonyId === id)!.offerId;
    const outcome = await cl.engine.approve(
      shownRef(cl.engine, id),
      typedPin(pinOf(w, name)).source,
    );
    if (outcome.kind !== 'approved') throw new Error(`${name}: ${outcome.kind}`);
    await cl.next(
      (e): e is typeof e => e.type === 'result' && e.result.offerId === offerId,
      'result',
    );
    const mine = w.ctx.frames.slice(from).filter((f) => f.custodian === name);
    const upToResult: typeof mine = [];
    for (const f of mine) {
      upToResult.push(f);
      if (f.dir === 'received' && (JSON.parse(f.text) as { type: string }).type === 'result') break;
    }
    const sent = upToResult.filter((f) => f.dir === 'sent');
    out.push({
      sent: sent.length,
      received: upToResult.length - sent.length,
      // Every client message here asks for an answer; the result is that answer.
      roundTrips: sent.length,
      types: upToResult
        .map(
          (f) => `${f.dir === 'sent' ? '→' : '←'}${(JSON.parse(f.text) as { type: string }).type}`,
        )
        .join(' '),
    });
    await sleep(50); // let the progress updates of this approval reach everyone
  }
  await finish(w, clients, id);
  return out;
}

/** One ceremony with the three approvers approving as soon as their offer arrives. */
async function timedCeremony(w: World, clients: readonly CustodianClient[]): Promise<number> {
  const offs = APPROVERS.map((name) => {
    const cl = clients.find((c) => c.name === name)!;
    return cl.engine.on((e) => {
      if (e.type === 'offer-added')
        void cl.engine.approve(refOf(e.offer), typedPin(pinOf(w, name)).source);
    });
  });
  const t0 = performance.now();
  const c = await adminCall<CeremonyView>(w.server, 'POST', '/api/ceremonies', {
    target: TARGET,
    purpose: 'bench',
    requester: 'bench',
  });
  for (;;) {
    const s = w.server.engine.get(c.id);
    if (s?.state === 'quorum') break;
    if (s && s.state !== 'open') throw new Error(`ceremony ended ${s.state}: ${s.reason ?? ''}`);
    if (performance.now() - t0 > 60_000) throw new Error('no quorum within 60 s');
    await sleep(1);
  }
  const dt = performance.now() - t0;
  for (const off of offs) off();
  await finish(w, clients, c.id);
  return dt;
}

async function phase(w: World, url: string, runs: number): Promise<number[]> {
  const clients = await connectAll(w.ctx, w.server, w.hw, url);
  try {
    await timedCeremony(w, clients); // warm-up
    const out: number[] = [];
    for (let i = 0; i < runs; i++) out.push(await timedCeremony(w, clients));
    return out;
  } finally {
    for (const c of clients) c.stop();
    await sleep(100);
  }
}

/**
 * Runs both ceremony benchmarks. Lower bound: approvers work in parallel and the target is
 * local to the server, so the only network cost a ceremony cannot avoid is one round trip
 * (offer out, decision back); everything else is computation, which the same ceremony without
 * added latency measures in the same run. Lower bound = median(zero-RTT run) + 1 RTT.
 */
export async function benchCeremony(
  rttMs = 50,
  runs = 10,
): Promise<{ roundTrips: RoundTrips[]; timing: CeremonyTiming }> {
  const w = await world();
  try {
    const direct = await connectAll(w.ctx, w.server, w.hw);
    const roundTrips = await countRoundTrips(w, direct);
    for (const c of direct) c.stop();
    await sleep(100);
    const proxy = await startDelayProxy(w.server.port, rttMs);
    const proxied = w.server.wsUrl.replace(`:${w.server.port}/`, `:${proxy.port}/`);
    const zero: number[] = [];
    const delayed: number[] = [];
    // Short alternating phases, so a change in machine load hits both alike.
    for (let done = 0; done < runs; done += 2) {
      zero.push(...(await phase(w, w.server.wsUrl, 2)));
      delayed.push(...(await phase(w, proxied, 2)));
    }
    await proxy.close();
    const lowerBound = median(zero) + rttMs;
    return {
      roundTrips,
      timing: {
        rttMs,
        runs: zero.length,
        zero: summarize(zero),
        delayed: summarize(delayed),
        lowerBound,
        ratio: median(delayed) / lowerBound,
      },
    };
  } finally {
    await w.server.stop().catch(() => undefined);
    rmSync(w.ctx.dir, { recursive: true, force: true });
  }
}
