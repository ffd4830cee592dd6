import { readFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, startUi, type PageWindow, type UiHarness } from './harness';

// Accessibility and layout (docs/desktop-app.md "Accessibility"): axe-core on every view in
// both themes, widths from 640 px, document title, focus on navigation, the static shell.
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const outDir =
  process.env['UPDATE_SCREENSHOTS'] === '1'
    ? 'docs/screenshots'
    : mkdtempSync(join(tmpdir(), 'custodian-layout-'));

type Violation = { id: string; impact: string | null; nodes: { target: string[] }[] };

/** Runs axe-core in the page (evaluated over DevTools, so the CSP does not apply). */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const w = globalThis as unknown as {
      axe: { run(): Promise<{ violations: Violation[] }> };
    };
    return (await w.axe.run()).violations;
  });
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const VIEWS: { name: string; scenario: string; open: (page: Page) => Promise<void> }[] = [
  {
    name: 'first run',
    scenario: 'first-run',
    open: async (p) => {
      await p.getByLabel('Server address').fill('https://custody.acme.example');
      await p.getByLabel('Invitation').fill('inv_4f7Qk2mZ9xT1cV8bN3');
      await p.getByRole('button', { name: 'Check invitation' }).click();
      await p.getByLabel('Fingerprint from your invitation letter').waitFor();
    },
  },
  {
    name: 'ceremonies with alerts',
    scenario: 'suspicious',
    open: async (p) => void (await p.getByText('Security alerts (2)').waitFor()),
  },
  {
    name: 'ceremonies, TEST and not genuine',
    scenario: 'test-root',
    open: async (p) => void (await p.getByText('Do not approve (1)').waitFor()),
  },
  {
    name: 'detail',
    scenario: 'normal',
    open: async (p) => {
      await p.getByRole('button', { name: /TLS sub-CA/ }).click();
      await p.getByRole('region', { name: 'Checked by this app' }).waitFor();
    },
  },
  {
    name: 'PIN dialog',
    scenario: 'last-try',
    open: async (p) => {
      await p.getByRole('button', { name: /TLS sub-CA/ }).click();
      await p.getByRole('button', { name: 'Approve…' }).click();
      await p.getByRole('dialog').waitFor();
    },
  },
  {
    name: 'card',
    scenario: 'normal',
    open: async (p) => {
      await p.getByRole('button', { name: 'Card and reader' }).click();
      await p.getByText('ACMEALICE00001').waitFor();
    },
  },
  {
    name: 'audit',
    scenario: 'normal',
    open: async (p) => {
      await p.getByRole('button', { name: 'Audit log' }).click();
      await p.locator('tbody tr').first().waitFor();
    },
  },
  {
    name: 'trace',
    scenario: 'normal',
    open: async (p) => {
      await p.getByRole('button', { name: 'APDU trace' }).click();
      await p.getByRole('heading', { name: 'APDU trace' }).waitFor();
    },
  },
  {
    name: 'settings',
    scenario: 'normal',
    open: async (p) => {
      await p.getByRole('button', { name: 'Settings' }).click();
      await p.getByRole('heading', { name: 'Settings' }).waitFor();
    },
  },
  {
    name: 'offline',
    scenario: 'errors',
    open: async (p) => void (await p.locator('.offline-banner').waitFor()),
  },
];

describe.skipIf(!HAVE_CHROMIUM)('accessibility and layout in Chromium', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
    mkdirSync(outDir, { recursive: true });
  }, 60_000);
  afterAll(async () => ui?.close());

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`axe-core: no serious or critical violation on any view (${colorScheme})`, async () => {
      const found: string[] = [];
      for (const v of VIEWS) {
        const { page } = await ui.open(v.scenario, { colorScheme });
        await v.open(page);
        found.push(...(await axe(page)).map((f) => `${v.name}: ${f}`));
        await page.context().close();
      }
      expect(found).toEqual([]);
    }, 240_000);
  }

  for (const width of [640, 800, 1440]) {
    it(`usable at ${width} px: nothing overflows sideways`, async () => {
      const { page, problems } = await ui.open('normal', { width, height: 900 });
      await page.getByRole('button', { name: /TLS sub-CA/ }).click();
      await page.getByRole('region', { name: 'Checked by this app' }).waitFor();
      const overflow = await page.evaluate(() => {
        const w = globalThis as unknown as {
          document: {
            querySelectorAll(
              s: string,
            ): Iterable<{ scrollWidth: number; clientWidth: number; className: string }>;
          };
        };
        return [...w.document.querySelectorAll('.content, .view, .panel, .shell')]
          .filter((e) => e.scrollWidth > e.clientWidth + 1)
          .map((e) => `${e.className}: ${e.scrollWidth} > ${e.clientWidth}`);
      });
      expect(overflow).toEqual([]);
      writeFileSync(join(outDir, `width-${width}.png`), await page.screenshot());
      expect(problems).toEqual([]);
    });
  }

  it('the document title names the count and the view; focus moves to the heading', async () => {
    const { page } = await ui.open('normal');
    await page.getByText('Waiting for you (2)').waitFor();
    await page.waitForFunction(() =>
      String((globalThis as unknown as PageWindow).document['title' as never]).startsWith(
        'Custodian — 2 waiting',
      ),
    );
    expect(await page.title()).toMatch(
      /^Custodian — 2 waiting, next expires \d\d:\d\d · Ceremonies$/,
    );
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageWindow).document.activeElement?.outerHTML.startsWith(
          '<h1',
        ) === true,
    );
    const focused = await page.evaluate(
      () => (globalThis as unknown as PageWindow).document.activeElement?.textContent,
    );
    expect(focused).toContain('Issue the TLS sub-CA certificate');
    expect(await page.title()).toMatch(/· Ceremony$/);
  });

  it('index.html paints a static shell before the bundle runs', async () => {
    const html = await (await fetch(`${ui.baseUrl}/`)).text();
    expect(html).toMatch(/<div id="root"><p class="boot">Custodian — Starting…<\/p><\/div>/);
    // The entry is small and imports the React app as a chunk after the first frame
    // (renderer/first-paint.ts): evaluating the app never delays the shell's paint.
    const entry = await (await fetch(`${ui.baseUrl}/app.js`)).text();
    expect(entry.length).toBeLessThan(32_000);
    expect(entry).toMatch(/import\("\.\/chunk-[A-Z0-9]+\.js"\)/);
    expect(entry).toContain('requestAnimationFrame');
  });
});
