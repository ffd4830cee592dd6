/**
 * The server side of the load stage (test/bench/load.ts): the REAL server in this process with
 * `targets` emulated target HSMs (in-process transport, yielding per APDU like real I/O), each
 * initialized for n-of-m PKA through the admin API, enrollment tokens for every seat, and the
 * checks after the run: what each target card counted against the server's records.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CardTransport } from '../../core/card/transport';
import { adminCall, cardStatus, type CeremonyView } from '../../demo/admin';
import { generateTestCa, type TestCa } from '../../emulator/ca/test-ca';
import { EmulatedSmartCardHsm } from '../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../emulator/card/state-file';
import { createInProcessTransport } from '../../emulator/transport/in-process';
import { startServer, type RunningServer } from '../../server/app';
import { Enrollment } from '../../server/enroll/enrollment';
import { parseConfig } from '../../server/config';
import { unwrap } from '../../shared/result';
import type { LoadSeat, SeatOutcome } from './load-custodians';
import {
  cardLink,
  delayOf,
  remoteCardTransport,
  type CardDelays,
  type FromTargets,
  type ToTargets,
} from './load-targets';

const TARGETS_CHILD = fileURLToPath(new URL('./load-targets.ts', import.meta.url));

/** Shape of the load. */
export type LoadShape = {
  readonly targets: number;
  /** Custodians registered per target (m). */
  readonly m: number;
  /** Approvals needed (n). */
  readonly n: number;
};

/**
 * Where the emulated targets compute: `process` (default) in a card process of their own, as USB
 * devices do; `server` in the server process (their crypto then counts as server CPU and blocks
 * its event loop).
 */
export type TargetPlacement = 'process' | 'server';

/** A running server with its targets and seats. */
export type LoadWorld = {
  readonly server: RunningServer;
  readonly ca: TestCa;
  readonly targets: readonly string[];
  readonly seats: readonly LoadSeat[];
  /** Ends the setup: the store is durable again (`synchronous=FULL`, as the server opens it). */
  measured(): void;
  /** Applies a card model to every target (per-APDU card time). */
  setCardLatency(delays: CardDelays): Promise<void>;
  /** Commits made by the store's group commit so far (one WAL fsync each). */
  readonly groupCommits: () => number;
  close(): Promise<void>;
};

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>) {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Starts the server, initializes every target n-of-m and creates one token per seat. */
export async function loadWorld(
  shape: LoadShape,
  placement: TargetPlacement,
  say: (text: string) => void = () => undefined,
): Promise<LoadWorld> {
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
  const ca = generateTestCa();
  const anchorFile = join(dir, 'test-root.cvc');
  writeFileSync(anchorFile, ca.root.cvc);
  const targets = Array.from({ length: shape.targets }, (_, i) => `target-${i}`);
  const serials = targets.map((_, i) => 30_000 + i);
  let opener: (index: number) => Promise<CardTransport>;
  let setCardLatency: (d: CardDelays) => Promise<void>;
  let cardProcess: ChildProcess | undefined;
  if (placement === 'server') {
    const cards = serials.map(
      (serial) => new EmulatedSmartCardHsm(createDeviceState(ca, { serial })),
    );
    let delays: CardDelays | undefined;
    setCardLatency = async (d) => {
      delays = d;
    };
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    opener = async (i) => {
      const inner = createInProcessTransport(cards[i]!);
      return {
        get atr() {
          return inner.atr;
        },
        async transmit(apdu) {
          const ms = delays ? delayOf(delays, 'transmit', apdu) : 0;
          if (ms > 0) await wait(ms);
          return inner.transmit(apdu);
        },
        async reset() {
          if (delays?.resetMs) await wait(delays.resetMs);
          return inner.reset();
        },
        close: (d) => inner.close(d),
        transaction: (fn) => inner.transaction(fn),
      };
    };
  } else {
    const proc = fork(TARGETS_CHILD, ['--load-targets'], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
    });
    cardProcess = proc;
    const ready = new Promise<void>((ok, fail) => {
      proc.on('message', (m) => {
        if ((m as FromTargets).type === 'ready') ok();
      });
      proc.on('exit', () => fail(new Error('card process ended')));
    });
    proc.send({ type: 'init', ca, serials } satisfies ToTargets);
    await ready;
    const link = cardLink(proc);
    opener = (i) => remoteCardTransport(link, i);
    setCardLatency = (d) => link.setDelays(d);
  }
  const stopCards = () => {
    if (cardProcess && cardProcess.exitCode === null) cardProcess.kill();
  };
  const seatsTotal = shape.targets * shape.m;
  const config = unwrap(
    parseConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(dir, 'server-data'),
        targets: targets.map((name) => ({ name, emulatorState: 'in-process' })),
        trustAnchors: [anchorFile],
        unlock: { maxSeconds: 3600, maxSignatures: 10 },
        ceremonyDefaults: { expiresInSeconds: 3600 },
        // Every bench custodian connects from 127.0.0.1 (server/README.md "Connection limits").
        connections: {
          maxUnauthenticatedPerAddress: seatsTotal,
          maxUnauthenticated: seatsTotal,
        },
      },
      dir,
    ),
  );
  say(`load: ${targets.length} target cards (${since()})`);
  const server = await startServer(config, {
    openerFor: (t) => () => opener(targets.indexOf(t.name)),
    // A loaded machine must not turn slowness into dropped sessions.
    heartbeatSeconds: 120,
    helloTimeoutSeconds: 300,
    log: () => undefined,
  });
  // Setup is not measured: 1,000 enrollments write without fsync until `measured()` restores
  // the server's own `synchronous=FULL` for the rounds.
  server.store.db.pragma('synchronous = OFF');
  let commits = 0;
  const exec = server.store.db.exec.bind(server.store.db);
  server.store.db.exec = (sql: string) => {
    if (/^\s*COMMIT\b/i.test(sql)) commits++;
    return exec(sql);
  };
  try {
    await pool(targets, 8, (t) =>
      adminCall(server, 'POST', `/api/targets/${t}/initialize`, { n: shape.n, m: shape.m }),
    );
    say(`load: ${targets.length} targets initialized (${since()})`);
    const wanted = targets.flatMap((target) =>
      Array.from({ length: shape.m }, (_, j) => ({ target, name: `c${j}-${target}`, key: j })),
    );
    // The server's own token code, all tokens in one transaction (one fsync instead of 1,000
    // admin requests with one each: setup, not measured).
    const enrollment = new Enrollment(
      server.store,
      server.targets,
      () => [],
      () => new Date(),
    );
    const seats = server.store.atomically(() =>
      wanted.map((w) => ({ ...w, token: enrollment.createToken(w.target, w.name).token })),
    );
    say(`load: ${seats.length} enrollment tokens (${since()})`);
    return {
      server,
      ca,
      targets,
      seats,
      groupCommits: () => commits,
      measured: () => void server.store.db.pragma('synchronous = FULL'),
      setCardLatency,
      async close() {
        await server.stop().catch(() => undefined);
        stopCards();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server.stop().catch(() => undefined);
    stopCards();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Requests one ceremony per target at once; resolves target → ceremony id. */
export async function requestAll(w: LoadWorld): Promise<Record<string, string>> {
  const views = await Promise.all(
    w.targets.map((target) =>
      adminCall<CeremonyView>(w.server, 'POST', '/api/ceremonies', {
        target,
        purpose: 'load bench',
        requester: 'bench',
      }),
    ),
  );
  return Object.fromEntries(w.targets.map((t, i) => [t, views[i]!.id]));
}

/** One target's counts after the run. */
export type TargetCount = {
  readonly target: string;
  readonly state: string;
  readonly epoch: number;
  /** The card's own count (`80 54`, docs/card-reference.md §6.4). */
  readonly card: number;
  /** Approvals stored as `approved` in the ceremony's epoch. */
  readonly stored: number;
  /** `approval` audit entries of the ceremony. */
  readonly audited: number;
  /** Seats whose decision got an `accepted` result. */
  readonly acceptedByEngines: number;
  /** Seats that could not send their decision (card or engine failure). */
  readonly notSent: number;
};

/** What every target card counted, against the store, the audit and the engines' answers. */
export async function countAll(
  w: LoadWorld,
  ceremonies: Readonly<Record<string, string>>,
  outcomes: readonly SeatOutcome[],
): Promise<TargetCount[]> {
  const audited = w.server.store.db.prepare(
    "SELECT count(*) AS k FROM audit WHERE event = 'approval' AND json_extract(data, '$.ceremonyId') = ?",
  );
  return pool(w.targets, 8, async (target) => {
    const id = ceremonies[target]!;
    const c = w.server.store.ceremonies.get(id)!;
    const mine = outcomes.filter((o) => o.ceremonyId === id);
    return {
      target,
      state: c.state,
      epoch: c.epoch,
      card: (await cardStatus(w.server, target)).authenticated,
      stored: w.server.store.ceremonies
        .approvals(id, c.epoch)
        .filter((a) => a.outcome === 'approved').length,
      audited: (audited.get(id) as { k: number }).k,
      acceptedByEngines: mine.filter((o) => o.reply === 'accepted').length,
      notSent: mine.filter((o) => o.reply.startsWith('not-sent')).length,
    };
  });
}
