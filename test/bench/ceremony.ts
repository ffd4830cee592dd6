/**
 * Ceremony benchmarks against the REAL server and the REAL custodian engine (the demo's
 * world: in-process target and five custodian cards, target 3-of-5, everyone enrolled):
 *  - WebSocket messages per custodian authentication after approval (approvers one at a time,
 *    so every frame in the window belongs to that authentication);
 *  - 3-of-5 ceremony time (request → quorum on the server) with custodians behind a loopback
 *    proxy adding a simulated round-trip time, side by side with the RAMoverHTTP-style anchor
 *    (test/bench/anchor.ts) on the same cards and proxy, at each card-latency model, against the
 *    physical bound (test/bench/card-model.ts).
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
import { asciiBytes } from '../../shared/codec/bytes';
import type { CardLatency } from '../../emulator/latency-transport';
import { startAnchorRelay, type AnchorRelay } from './anchor';
import { CARD_MODELS, physicalBound, switchableHardware } from './card-model';
import { startDelayProxy } from './delay-proxy';
import { summarize, type Summary } from './stats';
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

/** One RTT at one card model (milliseconds). */
export type CeremonyPoint = {
  readonly rttMs: number;
  readonly model: string;
  readonly latency: CardLatency;
  /** request → quorum, Custodian (server + engines). */
  readonly custodian: Summary;
  /** request → quorum, the RAMoverHTTP-style relay. */
  readonly anchor: Summary;
  /** The physical bound at this RTT and model. */
  readonly bound: number;
};

/** Ceremony timing of a run. */
export type CeremonyResult = {
  /** Measured ceremonies per point and side (after one warm-up each). */
  readonly runs: number;
  readonly n: number;
  readonly m: number;
  readonly points: readonly CeremonyPoint[];
};

type World = {
  ctx: DemoContext;
  hw: Hardware;
  server: RunningServer;
  use(latency: CardLatency): void;
};

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
  const { hw, use } = switchableHardware(await inProcessHardware(ca));
  ctx.hw = hw;
  const server = await serverUp(ctx, hw, anchorFile);
  await initializeTarget(ctx, server);
  await enrollAll(ctx, server, hw);
  return { ctx, hw, server, use };
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

async function anchorCeremony(w: World, anchor: AnchorRelay): Promise<number> {
  const dt = await anchor.ceremony(APPROVERS);
  await adminCall(w.server, 'POST', `/api/targets/${TARGET}/lock`);
  return dt;
}

const noProxy = async (port: number) => ({ port, close: async () => undefined });

/** Both sides at one RTT, every card model, alternating so load changes hit both alike. */
async function atRtt(w: World, rttMs: number, runs: number): Promise<CeremonyPoint[]> {
  const via = (port: number) => (rttMs > 0 ? startDelayProxy(port, rttMs) : noProxy(port));
  const proxy = await via(w.server.port);
  const url = w.server.wsUrl.replace(`:${w.server.port}/`, `:${proxy.port}/`);
  const clients = await connectAll(w.ctx, w.server, w.hw, url);
  const seats = w.hw.custodians.filter((c) => (APPROVERS as readonly string[]).includes(c.name));
  const anchor = await startAnchorRelay(
    w.server.targets.get(TARGET)!,
    asciiBytes(w.hw.targetDeviceId),
    seats,
    via,
  );
  try {
    const points: CeremonyPoint[] = [];
    for (const model of CARD_MODELS) {
      w.use(model.latency);
      await timedCeremony(w, clients); // warm-up
      await anchorCeremony(w, anchor);
      const custodian: number[] = [];
      const relay: number[] = [];
      for (let i = 0; i < runs; i++) {
        if (i % 2 === 0) {
          custodian.push(await timedCeremony(w, clients));
          relay.push(await anchorCeremony(w, anchor));
        } else {
          relay.push(await anchorCeremony(w, anchor));
          custodian.push(await timedCeremony(w, clients));
        }
      }
      points.push({
        rttMs,
        model: model.name,
        latency: model.latency,
        custodian: summarize(custodian),
        anchor: summarize(relay),
        bound: physicalBound(model.latency, APPROVERS.length, rttMs),
      });
    }
    return points;
  } finally {
    w.use(CARD_MODELS[0]!.latency);
    await anchor.close();
    for (const c of clients) c.stop();
    await proxy.close();
    await sleep(100);
  }
}

/**
 * Runs both ceremony benchmarks: round trips per authentication, then at each RTT of `rtts` and
 * each card model, `runs` Custodian ceremonies and `runs` anchor ceremonies, alternating.
 */
export async function benchCeremony(
  rtts: readonly number[] = [0, 5, 20, 50],
  runs = 10,
): Promise<{ roundTrips: RoundTrips[]; ceremony: CeremonyResult }> {
  const w = await world();
  try {
    const direct = await connectAll(w.ctx, w.server, w.hw);
    const roundTrips = await countRoundTrips(w, direct);
    for (const c of direct) c.stop();
    await sleep(100);
    const points: CeremonyPoint[] = [];
    for (const rtt of rtts) points.push(...(await atRtt(w, rtt, runs)));
    return { roundTrips, ceremony: { runs, n: APPROVERS.length, m: 5, points } };
  } finally {
    await w.server.stop().catch(() => undefined);
    rmSync(w.ctx.dir, { recursive: true, force: true });
  }
}
