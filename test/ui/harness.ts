/**
 * Test harness for the renderer in real headless Chromium (playwright-core, Debian's
 * /usr/bin/chromium): builds the renderer with the fake bridge, serves it with the app's CSP,
 * and opens pages per scenario while collecting console errors and CSP violations.
 * @module
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';
/** Whether the browser exists on this machine (the UI suites require it). */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** A running UI: browser, static server and cleanup. */
export type UiHarness = {
  readonly browser: Browser;
  readonly baseUrl: string;
  /** Opens the app with a scenario; `problems` collects console errors and page errors. */
  open(
    scenario: string,
    options?: { colorScheme?: 'light' | 'dark'; width?: number; height?: number },
  ): Promise<{ page: Page; problems: string[] }>;
  close(): Promise<void>;
};

/** Builds, serves and launches. Call once per test file (beforeAll). */
export async function startUi(): Promise<UiHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-ui-'));
  execFileSync(process.execPath, ['build/bundle.mjs', '--dev-only', '--outdir', dir], {
    stdio: 'pipe',
  });
  const server = spawn(
    process.execPath,
    ['build/serve-ui.mjs', '--port', '0', '--root', join(dir, 'renderer-dev')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const baseUrl = await firstUrl(server);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    browser,
    baseUrl,
    async open(scenario, options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1180, height: options.height ?? 780 },
        colorScheme: options.colorScheme ?? 'light',
        reducedMotion: 'reduce',
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${baseUrl}/?scenario=${scenario}&delay=0`);
      return { page, problems };
    },
    async close() {
      await browser.close();
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function firstUrl(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('UI server did not start')), 10_000);
    server.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(text);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`UI server exited with ${String(code)}`)));
  });
}

type PageElement = {
  readonly textContent: string | null;
  readonly outerHTML: string;
  getAttribute(name: string): string | null;
  readonly labels?: ArrayLike<{ readonly textContent: string | null }> | null;
};

/**
 * The browser globals that `page.evaluate` callbacks use, typed here because the test project
 * compiles without the DOM lib. Inside a callback: `const w = globalThis as unknown as PageWindow`.
 */
export type PageWindow = {
  readonly document: {
    readonly body: PageElement & { append(node: unknown): void };
    readonly documentElement: { readonly dataset: Record<string, string | undefined> };
    readonly activeElement: PageElement | null;
    addEventListener(type: string, listener: (e: { violatedDirective: string }) => void): void;
    createElement(tag: string): { textContent: string | null };
    querySelectorAll(selector: string): Iterable<PageElement>;
  };
  getComputedStyle(element: unknown): {
    color: string;
    backgroundColor: string;
    outlineStyle: string;
    fontSize: string;
    borderTopColor: string;
  };
  fetch(url: string): Promise<unknown>;
  readonly custodian: {
    readonly calls: readonly { method: string; request: unknown }[];
    emit(method: string, payload: unknown): void;
    holdKeypad(): void;
  };
  readonly [key: string]: unknown;
};
