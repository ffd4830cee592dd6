import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERER_CSP } from '../../electron/main/security';
import { FAKE_PIN } from '../../renderer/dev/fake-bridge';
import { HAVE_CHROMIUM, startUi, type PageWindow, type UiHarness } from './harness';

// Every state the fake bridge can produce, including errors, plus the CSP and the themes.
describe.skipIf(!HAVE_CHROMIUM)('custodian UI states in Chromium', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
  }, 60_000);
  afterAll(async () => ui?.close());

  it('is served with the same CSP as the desktop app, and the CSP holds', async () => {
    const response = await fetch(`${ui.baseUrl}/`);
    expect(response.headers.get('content-security-policy')).toBe(RENDERER_CSP);
    const { page } = await ui.open('normal');
    await page.getByRole('heading', { name: 'Ceremonies' }).waitFor();
    const blocked = await page.evaluate(async () => {
      const w = globalThis as unknown as PageWindow;
      const { document } = w;
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        violations.push(e.violatedDirective),
      );
      const fetchFailed = await w.fetch('https://example.com/').then(
        () => false,
        () => true,
      );
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 50));
      return { fetchFailed, inlineRan: '__inline' in w, violations };
    });
    expect(blocked.fetchFailed).toBe(true);
    expect(blocked.inlineRan).toBe(false);
    expect(blocked.violations).toEqual(expect.arrayContaining(['connect-src', 'script-src-elem']));
  });

  it('explains server, card and audit failures in words', async () => {
    const { page } = await ui.open('errors');
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    expect(await alert.innerText()).toContain('Cannot reach the management server');
    await page.getByRole('button', { name: 'Card and reader' }).click();
    await page.getByText('The card was removed').waitFor();
    await page.getByRole('button', { name: 'Audit log' }).click();
    await page.getByRole('button', { name: 'Verify log' }).click();
    const tamper = page.getByRole('alert').filter({ hasText: 'tampered' });
    await tamper.waitFor();
    expect(await tamper.innerText()).toContain('Entry 4');
  });

  it('audit log: verify confirms an intact chain', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: 'Audit log' }).click();
    await page.getByRole('button', { name: 'Verify log' }).click();
    const status = page.getByRole('status').filter({ hasText: 'intact' });
    await status.waitFor();
    expect(await status.innerText()).toMatch(/The log is intact: 6 entries/);
    expect(await page.locator('tbody tr').count()).toBe(6);
  });

  it('card without a custodian key: create it with the PIN, then export', async () => {
    const { page } = await ui.open('no-key');
    await page.getByRole('button', { name: 'Card and reader' }).click();
    await page.getByText('This card has no custodian key yet').waitFor();
    await page.getByRole('button', { name: 'Create custodian key' }).click();
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('ACMEALICE00001').waitFor();
    await page.getByRole('button', { name: 'Export .pka file' }).click();
    await page.getByText(/Saved to/).waitFor();
  });

  it('approving needs a card: the button is disabled and says why', async () => {
    const { page } = await ui.open('errors');
    await page.getByRole('alert').first().waitFor();
    // A notification click in main arrives as a navigation event.
    await page.evaluate(() => {
      const fake = (globalThis as unknown as PageWindow).custodian;
      fake.emit('onNavigate', { view: 'ceremony', ceremonyId: 'c-7f3a91' });
    });
    await page.getByRole('heading', { name: /Sign the quarterly CRL/ }).waitFor();
    await page.getByText('Insert your custodian card to approve').waitFor();
    expect(await page.getByRole('button', { name: 'Approve…' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Decline' }).isDisabled()).toBe(false);
  });

  it('a ceremony the server no longer knows is explained in words', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('heading', { name: 'Ceremonies' }).waitFor();
    await page.evaluate(() => {
      const fake = (globalThis as unknown as PageWindow).custodian;
      fake.emit('onNavigate', { view: 'ceremony', ceremonyId: 'c-gone' });
    });
    await page.getByText('This ceremony no longer exists').waitFor();
  });

  it('nothing waiting: a calm empty state', async () => {
    const { page } = await ui.open('empty');
    await page.getByText('Nothing waits for your approval').waitFor();
    expect(await page.locator('.nav-count').count()).toBe(0);
  });

  it('settings say so when the desktop has no system tray, and only then', async () => {
    for (const [scenario, expected] of [
      ['no-tray', 1],
      ['normal', 0],
    ] as const) {
      const { page } = await ui.open(scenario);
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Keep running in the tray').waitFor();
      const note = page.locator('#no-tray-note');
      expect(await note.count(), scenario).toBe(expected);
      if (expected === 1) {
        const text = await note.innerText();
        expect(text).toContain('No system tray on this desktop');
        expect(text).toContain('Closing the window minimizes it instead');
      }
    }
  });

  it('settings switch the theme to dark and back', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: 'Settings' }).click();
    const bg = () =>
      page.evaluate(() => {
        const w = globalThis as unknown as PageWindow;
        return w.getComputedStyle(w.document.body).backgroundColor;
      });
    const light = await bg();
    await page.getByLabel('Dark').check();
    await expect
      .poll(() =>
        page.evaluate(
          () => (globalThis as unknown as PageWindow).document.documentElement.dataset['theme'],
        ),
      )
      .toBe('dark');
    expect(await bg()).not.toBe(light);
    await page.getByLabel('Light').check();
    await expect.poll(bg).toBe(light);
    await page.getByLabel(/Start at login/).check();
    const calls = await page.evaluate(() =>
      (globalThis as unknown as PageWindow).custodian.calls
        .filter((c) => c.method === 'updateSettings')
        .map((c) => c.request),
    );
    expect(calls).toEqual([{ theme: 'dark' }, { theme: 'light' }, { startAtLogin: true }]);
  });

  it('system theme follows the OS dark mode', async () => {
    const { page } = await ui.open('normal', { colorScheme: 'dark' });
    await page.getByRole('heading', { name: 'Ceremonies' }).waitFor();
    expect(
      await page.evaluate(() => {
        const w = globalThis as unknown as PageWindow;
        return w.getComputedStyle(w.document.body).backgroundColor;
      }),
    ).toBe('rgb(15, 19, 24)');
  });

  it('every control is labelled and reachable by keyboard', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('heading', { name: 'Ceremonies' }).waitFor();
    for (const view of ['Ceremonies', 'Card and reader', 'Audit log', 'APDU trace', 'Settings']) {
      await page.getByRole('button', { name: new RegExp(`^${view}`) }).click();
      const unlabelled = await page.evaluate(() =>
        [
          ...(globalThis as unknown as PageWindow).document.querySelectorAll(
            'button, input, textarea, select',
          ),
        ]
          .filter((el) => {
            const name =
              (el.getAttribute('aria-label') ?? '') +
              (el.labels?.[0]?.textContent ?? '') +
              (el.textContent ?? '');
            return name.trim() === '';
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      expect(unlabelled, view).toEqual([]);
    }
    await page.getByRole('button', { name: /^Ceremonies/ }).click();
    await page.getByRole('heading', { name: 'Ceremonies' }).waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      focused.push(
        await page.evaluate(
          () =>
            (globalThis as unknown as PageWindow).document.activeElement?.textContent
              ?.trim()
              .slice(0, 30) ?? '',
        ),
      );
    }
    expect(focused.some((t) => t.startsWith('Sign the quarterly CRL'))).toBe(true);
    const outline = await page.evaluate(() => {
      const w = globalThis as unknown as PageWindow;
      return w.getComputedStyle(w.document.activeElement).outlineStyle;
    });
    expect(outline).not.toBe('none');
  });
});
