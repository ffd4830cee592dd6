/**
 * First contentful paint of the desktop renderer in Debian's Chromium: 5 cold runs (a fresh
 * browser context each, so no HTTP cache) normally and with a 4× CPU throttle (DevTools
 * `Emulation.setCPUThrottlingRate`). The page is the renderer served by build/serve-ui.mjs
 * with the app's CSP (fake bridge). Run: `npx tsx test/bench/ui-fcp.ts`.
 * @module
 */
import { startUi } from '../ui/harness';

async function fcp(ui: Awaited<ReturnType<typeof startUi>>, throttle: number): Promise<number> {
  const context = await ui.browser.newContext({ viewport: { width: 1180, height: 780 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await page.goto(`${ui.baseUrl}/?scenario=normal&delay=0`, { waitUntil: 'load' });
  const value = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const g = globalThis as unknown as {
          PerformanceObserver: new (
            cb: (l: { getEntries(): { name: string; startTime: number }[] }) => void,
          ) => {
            observe(o: { type: string; buffered: boolean }): void;
          };
        };
        new g.PerformanceObserver((list) => {
          for (const e of list.getEntries())
            if (e.name === 'first-contentful-paint') resolve(e.startTime);
        }).observe({ type: 'paint', buffered: true });
      }),
  );
  await context.close();
  return value;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ui = await startUi();
try {
  for (const throttle of [1, 4]) {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push(await fcp(ui, throttle));
    console.log(
      `FCP ${throttle}x CPU: median ${median(runs).toFixed(0)} ms (runs ${runs.map((r) => r.toFixed(0)).join(', ')})`,
    );
  }
} finally {
  await ui.close();
}
