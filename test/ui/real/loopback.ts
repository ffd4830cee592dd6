/**
 * The loopback bridge: the production renderer (renderer/main.tsx, built by build/bundle.mjs)
 * served exactly like the fake-bridge suites (build/serve-ui.mjs, same CSP header, so
 * `connect-src 'none'` holds), with `window.custodian` built by `createCustodianApi(port)` in
 * the page. The port's `invoke` is a Playwright binding (Chrome DevTools protocol, not the
 * network) into this test process, where main's own IPC pipeline runs: sender check, request
 * schema, `createIpcHandlers` (PIN string → bytes, wiped after), the REAL engine backend,
 * response schema. Events go back through main's validating event sender and `page.evaluate`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createIpcHandlers } from '../../../electron/main/ipc-handlers';
import { createEventSender, registerInvokeHandlers } from '../../../electron/main/ipc/ipc-main';
import { createSenderCheck, type SenderInfo } from '../../../electron/main/ipc/sender-trust';
import { createSettingsStore } from '../../../electron/main/settings-store';
import type { CustodianBackend } from '../../../shared/ipc/backend';
import { CHROMIUM } from '../harness';

/** A page wired to a backend, plus what happened on it. */
export type LoopbackPage = {
  readonly page: Page;
  /** Console errors/warnings, page errors and CSP violations. */
  readonly problems: string[];
  /** Every IPC payload the page sent (to check that no PIN stays anywhere but the request). */
  readonly calls: { channel: string; payload: unknown }[];
  /** Files the renderer asked main to save (export .pka). */
  readonly saved: { name: string; bytes: Uint8Array }[];
  close(): Promise<void>;
};

/** The built renderer, its server and the browser. */
export type Loopback = {
  readonly baseUrl: string;
  open(
    backend: CustodianBackend,
    options?: { width?: number; height?: number },
  ): Promise<LoopbackPage>;
  close(): Promise<void>;
};

/** The in-page half: builds `window.custodian` from the contract's channel map. */
async function bridgeScript(): Promise<string> {
  const bridge = resolve('shared/ipc/bridge.ts');
  const out = await build({
    stdin: {
      contents: `
        import { createCustodianApi } from ${JSON.stringify(bridge)};
        const listeners = new Map();
        const api = createCustodianApi({
          invoke: (channel, payload) => globalThis.__custodianInvoke(channel, payload),
          on(channel, listener) {
            const set = listeners.get(channel) ?? new Set();
            listeners.set(channel, set);
            set.add(listener);
            return () => set.delete(listener);
          },
        });
        Object.defineProperty(globalThis, 'custodian', { value: api });
        Object.defineProperty(globalThis, '__custodianPush', {
          value: (channel, payload) => { for (const l of listeners.get(channel) ?? []) l(payload); },
        });
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
      `,
      resolveDir: resolve('.'),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
  });
  return out.outputFiles[0]!.text;
}

/** Builds the production renderer, serves it and launches Chromium. */
export async function startLoopback(): Promise<Loopback> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-real-ui-'));
  execFileSync(process.execPath, ['build/bundle.mjs', '--outdir', dir], { stdio: 'pipe' });
  const server = spawn(
    process.execPath,
    ['build/serve-ui.mjs', '--port', '0', '--root', join(dir, 'renderer')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const baseUrl = await firstUrl(server);
  const script = await bridgeScript();
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  });
  return {
    baseUrl,
    async open(backend, options = {}) {
      const context = await browser.newContext({
        viewport: { width: options.width ?? 1180, height: options.height ?? 780 },
        colorScheme: 'light',
        reducedMotion: 'reduce',
      });
      const page = await context.newPage();
      const problems: string[] = [];
      const calls: { channel: string; payload: unknown }[] = [];
      const saved: { name: string; bytes: Uint8Array }[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));

      // Main's pipeline, with an in-memory ipcMain and settings file.
      const handlers = new Map<string, (event: SenderInfo, ...args: unknown[]) => unknown>();
      let settingsText: string | undefined;
      const settings = createSettingsStore('settings.json', {
        read: async () => settingsText,
        write: async (_p, t) => void (settingsText = t),
      });
      await settings.load();
      const unregister = registerInvokeHandlers(
        {
          handle: (c, l) => void handlers.set(c, l),
          removeHandler: (c) => void handlers.delete(c),
        },
        createIpcHandlers({
          backend,
          settings,
          version: '0.1.0-test',
          openExternal: async () => undefined,
          saveFile: async (name, bytes) => {
            saved.push({ name, bytes: bytes.slice() });
            return `/tmp/${name}`;
          },
        }),
        createSenderCheck(() => new Set([1]), baseUrl),
      );
      await page.exposeBinding(
        '__custodianInvoke',
        async (source, channel: unknown, payload: unknown) => {
          if (typeof channel !== 'string') throw new Error('channel must be a string');
          calls.push({ channel, payload });
          const handler = handlers.get(channel);
          if (!handler) throw new Error(`no handler for ${channel}`);
          const frame = source.frame;
          const sender: SenderInfo = {
            sender: { id: 1 },
            senderFrame: { url: frame.url(), parent: frame.parentFrame() },
          };
          return handler(sender, ...(payload === undefined ? [] : [payload]));
        },
      );
      await page.addInitScript({ content: script });
      let open = true;
      const send = createEventSender(() => [
        {
          isDestroyed: () => !open || page.isClosed(),
          send: (channel, payload) =>
            void page
              .evaluate(
                ([c, p]) =>
                  (
                    globalThis as unknown as { __custodianPush(c: string, p: unknown): void }
                  ).__custodianPush(c, p),
                [channel, payload] as const,
              )
              .catch(() => undefined),
        },
      ]);
      const unsubscribe = backend.subscribe((event) => {
        if (event.type === 'ceremonies') send('onCeremonies', [...event.ceremonies]);
        else if (event.type === 'readers') send('onReaders', [...event.readers]);
        else if (event.type === 'servers') send('onServers', [...event.servers]);
        else if (event.type === 'alerts') send('onAlerts', [...event.alerts]);
        else send('onTrace', event.entry);
      });
      await page.goto(`${baseUrl}/`);
      return {
        page,
        problems,
        calls,
        saved,
        async close() {
          open = false;
          unsubscribe();
          unregister();
          await context.close();
        },
      };
    },
    async close() {
      await browser.close();
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function firstUrl(server: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('UI server did not start')), 10_000);
    server.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(text);
      if (m !== null) {
        clearTimeout(timer);
        resolvePromise(m[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`UI server exited with ${String(code)}`)));
  });
}
