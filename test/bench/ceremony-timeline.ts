/**
 * Where a ceremony's time goes (run by hand: `npx tsx test/bench/ceremony-timeline.ts`). The
 * world of test/bench/ceremony.ts at RTT 0 with the card model (emulator/latency-transport.ts):
 * for 8 ceremonies after a warm-up, the median time from the ceremony request to each event
 * the custodians' engines see (offer, decision done, result) and to the server's `quorum`; then
 * every card command of the last ceremony (card, INS, start–end).
 * docs/benchmarks.md reads the gap to the physical bound from it.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminCall, type CeremonyView } from '../../demo/admin';
import { APPROVERS, connectAll } from '../../demo/ceremony-steps';
import { typedPin } from '../../demo/custodian';
import { inProcessHardware } from '../../demo/hardware';
import { createReporter } from '../../demo/report';
import {
  enrollAll,
  initializeTarget,
  serverUp,
  TARGET,
  testPki,
  type DemoContext,
} from '../../demo/setup-steps';
import { refOf } from '../../core/custodian/engine-types';
import { SC_HSM_USB_LATENCY } from '../../emulator/latency-transport';
import { switchableHardware, type CardCommand } from './card-model';

const RUNS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-timeline-'));
  const ctx: DemoContext = {
    r: createReporter(() => undefined),
    dir,
    frames: [],
    serverLog: [],
    credentials: new Map(),
  };
  const { ca, anchorFile } = testPki(ctx);
  let commands: CardCommand[] = [];
  const { hw, use } = switchableHardware(await inProcessHardware(ca), (c) => commands.push(c));
  ctx.hw = hw;
  const server = await serverUp(ctx, hw, anchorFile);
  try {
    await initializeTarget(ctx, server);
    await enrollAll(ctx, server, hw);
    const clients = await connectAll(ctx, server, hw);
    use(SC_HSM_USB_LATENCY);
    const samples = new Map<string, number[]>();
    let last: { t0: number; commands: CardCommand[] } = { t0: 0, commands: [] };
    for (let run = 0; run <= RUNS; run++) {
      commands = [];
      const t0 = performance.now();
      const mark = (s: string) => {
        if (run === 0) return; // warm-up
        samples.set(s, [...(samples.get(s) ?? []), performance.now() - t0]);
      };
      const offs = APPROVERS.map((name) => {
        const cl = clients.find((c) => c.name === name)!;
        const pin = hw.custodians.find((c) => c.name === name)!.pin;
        return cl.engine.on((e) => {
          if (e.type === 'offer-added') {
            mark(`${name}: offer shown`);
            void cl.engine
              .approve(refOf(e.offer), typedPin(pin).source)
              .then(() => mark(`${name}: approval done (card reset)`));
          }
          if (e.type === 'result') mark(`${name}: result`);
        });
      });
      const c = await adminCall<CeremonyView>(server, 'POST', '/api/ceremonies', {
        target: TARGET,
        purpose: 'bench',
        requester: 'bench',
      });
      mark('request answered');
      while (server.engine.get(c.id)?.state !== 'quorum') await sleep(1);
      mark('quorum');
      for (const off of offs) off();
      last = { t0, commands };
      await adminCall(server, 'POST', `/api/targets/${TARGET}/lock`);
      await sleep(300);
    }
    for (const cl of clients) cl.stop();
    const rows = [...samples]
      .map(([s, xs]) => [median(xs), s] as const)
      .sort((a, b) => a[0] - b[0]);
    process.stdout.write(
      `median of ${RUNS} ceremonies, RTT 0, card model, ms after the request:\n` +
        rows.map(([t, s]) => `${t.toFixed(1).padStart(7)}  ${s}`).join('\n') +
        '\n\ncard commands of the last ceremony (INS, start–end, ms after the request):\n' +
        last.commands
          .map(
            (c) =>
              `${c.card.padEnd(7)} ${c.ins.toString(16).padStart(2, '0')}  ${(c.start - last.t0).toFixed(1)}–${(c.end - last.t0).toFixed(1)}`,
          )
          .join('\n') +
        '\n',
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`ceremony-timeline: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
