import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  appResponseHeaders,
  createAppProtocolHandler,
  resolveAppAsset,
} from '../../../electron/main/app-protocol';
import { allowedExternalUrl, openExternalSafely } from '../../../electron/main/external-links';
import { createSenderCheck, isSameOrigin } from '../../../electron/main/ipc/sender-trust';
import { createMainWindow } from '../../../electron/main/main-window';
import {
  RENDERER_CSP,
  hardenSession,
  hardenWebContents,
  type HardenableContents,
  type HardenableSession,
} from '../../../electron/main/security';
import { RENDERER_CSP_META } from '../../../shared/renderer-csp';

describe('renderer CSP', () => {
  it('gives the renderer no network, no inline code and no plugins', () => {
    const directives = new Map(
      RENDERER_CSP.split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('connect-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('style-src')).toBe("'self'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(RENDERER_CSP).not.toMatch(/unsafe-(inline|eval)|\*/);
  });

  it('renderer/index.html carries the same policy (minus header-only directives) in its meta', () => {
    const html = readFileSync('renderer/index.html', 'utf8');
    const metas = [...html.matchAll(/http-equiv="Content-Security-Policy"\s+content="([^"]*)"/g)];
    expect(metas).toHaveLength(1);
    expect(metas[0]?.[1]).toBe(RENDERER_CSP_META);
    expect(RENDERER_CSP_META.split('; ')).toEqual(
      RENDERER_CSP.split('; ').filter((d) => !d.startsWith('frame-ancestors')),
    );
  });
});

describe('createMainWindow', () => {
  it('creates every window sandboxed, isolated, without Node and without DevTools in production', () => {
    let seen: Record<string, unknown> = {};
    class FakeWindow {
      constructor(options: { webPreferences?: Record<string, unknown> }) {
        seen = options.webPreferences ?? {};
      }
    }
    createMainWindow(FakeWindow as never, '/app/preload.cjs', false);
    expect(seen).toMatchObject({
      preload: '/app/preload.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      devTools: false,
    });
    createMainWindow(FakeWindow as never, '/app/preload.cjs', true);
    expect(seen['devTools']).toBe(true);
    expect(seen['sandbox']).toBe(true);
  });
});

function fakeContents() {
  const listeners = new Map<string, ((...args: never[]) => void)[]>();
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
  let devToolsClosed = 0;
  const contents: HardenableContents = {
    on: ((event: string, listener: (...args: never[]) => void) => {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    }) as HardenableContents['on'],
    setWindowOpenHandler: (h) => {
      openHandler = h;
    },
    closeDevTools: () => {
      devToolsClosed++;
    },
  };
  const fire = (event: string, ...args: unknown[]) => {
    for (const l of listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  };
  return {
    contents,
    fire,
    open: (url: string) => openHandler?.({ url }),
    devToolsClosed: () => devToolsClosed,
  };
}

describe('hardenWebContents', () => {
  it('prevents navigation, redirects and webviews', () => {
    const f = fakeContents();
    hardenWebContents(f.contents, { openLink: () => {}, isDev: false });
    for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      let prevented = false;
      f.fire(event, { preventDefault: () => (prevented = true) }, 'https://evil.example/');
      expect(prevented, event).toBe(true);
    }
  });

  it('denies every new window and opens only allowlisted links outside', () => {
    const f = fakeContents();
    const opened: string[] = [];
    hardenWebContents(f.contents, { openLink: (u) => opened.push(u), isDev: false });
    expect(f.open('https://docs.example/help')).toEqual({ action: 'deny' });
    expect(f.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(f.open('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://docs.example/help']);
  });

  it('closes DevTools in production only', () => {
    const prod = fakeContents();
    hardenWebContents(prod.contents, { openLink: () => {}, isDev: false });
    prod.fire('devtools-opened');
    expect(prod.devToolsClosed()).toBe(1);
    const dev = fakeContents();
    hardenWebContents(dev.contents, { openLink: () => {}, isDev: true });
    dev.fire('devtools-opened');
    expect(dev.devToolsClosed()).toBe(0);
  });
});

describe('hardenSession', () => {
  it('denies all permissions and cancels requests outside the app scheme', () => {
    let request: Parameters<HardenableSession['setPermissionRequestHandler']>[0] | undefined;
    let check: (() => boolean) | undefined;
    let device: (() => boolean) | undefined;
    let before: Parameters<HardenableSession['webRequest']['onBeforeRequest']>[0] | undefined;
    hardenSession({
      setPermissionRequestHandler: (h) => (request = h),
      setPermissionCheckHandler: (h) => (check = h),
      setDevicePermissionHandler: (h) => (device = h),
      webRequest: { onBeforeRequest: (l) => (before = l) },
    });
    for (const permission of ['media', 'notifications', 'openExternal', 'hid', 'usb']) {
      let granted: boolean | undefined;
      request?.(null, permission, (g) => (granted = g));
      expect(granted, permission).toBe(false);
    }
    expect(check?.()).toBe(false);
    expect(device?.()).toBe(false);
    const cancel = (url: string) => {
      let result: boolean | undefined;
      before?.({ url }, (r) => (result = r.cancel));
      return result;
    };
    expect(cancel('app://custodian/app.js')).toBe(false);
    expect(cancel('https://custody.example/api')).toBe(true);
    expect(cancel('http://127.0.0.1:8080/')).toBe(true);
    expect(cancel('file:///etc/passwd')).toBe(true);
  });
});

describe('sender check', () => {
  const check = createSenderCheck(() => new Set([7]));
  const event = (url: string, id = 7, parent: unknown = null) => ({
    sender: { id },
    senderFrame: { url, parent },
  });
  it('accepts only top-level frames of our windows on the app origin', () => {
    expect(check(event('app://custodian/index.html'))).toBe(true);
    expect(check(event('app://custodian/index.html', 8))).toBe(false);
    expect(check(event('app://custodian/index.html', 7, {}))).toBe(false);
    expect(check(event('app://custodian.evil/index.html'))).toBe(false);
    expect(check(event('https://custodian/index.html'))).toBe(false);
    expect(check(event('app://user@custodian/'))).toBe(false);
    expect(check({ sender: { id: 7 }, senderFrame: null })).toBe(false);
    expect(isSameOrigin('not a url', 'app://custodian')).toBe(false);
  });
});

describe('external links', () => {
  it('allows https and mailto only, without credentials', async () => {
    expect(allowedExternalUrl('https://example.com/a?b=c')).toBe('https://example.com/a?b=c');
    expect(allowedExternalUrl('mailto:security@example.com')).toBe('mailto:security@example.com');
    for (const bad of [
      'http://example.com',
      'file:///C:/Windows/system32/calc.exe',
      'javascript:alert(1)',
      'ms-msdt:/id PCWDiagnostic',
      'smb://host/share',
      'https://user:pass@example.com/',
      `https://example.com/${'a'.repeat(3000)}`,
      '',
      42,
    ]) {
      expect(allowedExternalUrl(bad), String(bad)).toBeUndefined();
    }
    const opened: string[] = [];
    expect(await openExternalSafely('file:///etc/passwd', async (u) => void opened.push(u))).toBe(
      false,
    );
    expect(await openExternalSafely('https://a.example/', async (u) => void opened.push(u))).toBe(
      true,
    );
    expect(opened).toEqual(['https://a.example/']);
  });

  it('property: whatever comes in, only https:/mailto: URLs come out', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.anything()), (input) => {
        const out = allowedExternalUrl(input);
        if (out !== undefined) expect(out).toMatch(/^(https:\/\/|mailto:)/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('app protocol', () => {
  it('maps app URLs below the renderer root with a content type', () => {
    expect(resolveAppAsset(APP_ENTRY_URL)).toEqual({
      relativePath: 'index.html',
      contentType: 'text/html; charset=utf-8',
    });
    expect(resolveAppAsset('app://custodian/')?.relativePath).toBe('index.html');
    expect(resolveAppAsset('app://custodian/app.js?x=1')?.relativePath).toBe('app.js');
  });

  it('refuses traversal, other hosts, encoded separators and unknown types', () => {
    for (const bad of [
      'app://custodian/../main/main.cjs',
      'app://custodian/a%2f..%2fb.js',
      'app://custodian/a%5cb.js',
      'app://custodian/x%00.js',
      'app://other/index.html',
      'https://custodian/index.html',
      'app://custodian/secret.key',
      'app://custodian//etc/passwd.js',
      'nonsense',
    ]) {
      expect(resolveAppAsset(bad), bad).toBeUndefined();
    }
    // The URL parser folds encoded dot segments at the root: the result stays inside it.
    expect(resolveAppAsset('app://custodian/%2e%2e/%2e%2e/etc/passwd.js')?.relativePath).toBe(
      'etc/passwd.js',
    );
  });

  it('property: a resolved path never leaves the root', () => {
    fc.assert(
      fc.property(fc.string(), (tail) => {
        const asset = resolveAppAsset(`app://custodian/${tail}`);
        if (asset !== undefined) {
          expect(asset.relativePath.split('/')).not.toContain('..');
          expect(asset.relativePath.startsWith('/')).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('serves files with the CSP header and answers 404 otherwise', async () => {
    const handler = createAppProtocolHandler(async (p) => {
      if (p === 'index.html') return new TextEncoder().encode('<html></html>');
      throw new Error('missing');
    });
    const ok = await handler({ url: APP_ENTRY_URL });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe(RENDERER_CSP);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await ok.text()).toBe('<html></html>');
    expect((await handler({ url: 'app://custodian/missing.js' })).status).toBe(404);
    expect((await handler({ url: 'app://custodian/../x.js' })).status).toBe(404);
    expect(appResponseHeaders('text/css')['content-type']).toBe('text/css');
  });
});
