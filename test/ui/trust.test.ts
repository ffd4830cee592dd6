import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_PIN } from '../../renderer/dev/fake-bridge';
import { HAVE_CHROMIUM, startUi, type PageWindow, type UiHarness } from './harness';

// What the custodian can trust at a glance (docs/desktop-app.md "Trust cues"): checked vs.
// stated, remembered devices, refused offers as security alerts, non-genuine targets apart.
describe.skipIf(!HAVE_CHROMIUM)('trust cues in Chromium', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
  }, 60_000);
  afterAll(async () => ui?.close());

  it('the detail separates what this app checked from what the requester stated', async () => {
    const { page, problems } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    const checked = page.getByRole('region', { name: 'Checked by this app' });
    const stated = page.getByRole('region', { name: 'Stated by the requester (not verified)' });
    await checked.waitFor();
    const checkedText = await checked.innerText();
    expect(checkedText).toContain('DECC0101782');
    expect(checkedText).toContain('Genuine, chains to DESRCACC100001');
    expect(checkedText).toMatch(/You approved this device before \(4 times, last on/);
    expect(checkedText).toContain('cannot unlock any other device');
    // Server text only under "stated".
    for (const claim of ['Issuing CA HSM, rack B', 'Bob Keller', 'quarterly CRL']) {
      expect(checkedText).not.toContain(claim);
      expect(await stated.innerText()).toContain(claim);
    }
    expect(await page.getByText('First request for this device').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('warns the first time a request names a device this custodian never approved', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    const warning = page
      .locator('.first-time')
      .filter({ hasText: 'First request for this device' });
    await warning.waitFor();
    expect(await warning.innerText()).toMatch(
      /never approved DECC0100991 on Acme PKI Operations before/,
    );
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.innerText()).toContain('First request for this device');
  });

  it('the PIN dialog puts the device id first and largest, above the label', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const layout = await dialog.evaluate((d) => {
      const w = globalThis as unknown as PageWindow;
      const el = d as unknown as {
        innerText: string;
        querySelector(s: string): { getBoundingClientRect(): { top: number } } | null;
      };
      const id = el.querySelector('.device-id-value');
      const size = (x: unknown) => parseFloat(w.getComputedStyle(x).fontSize);
      return {
        text: el.innerText,
        idSize: id === null ? 0 : size(id),
        labelSize: size(el.querySelector('.facts-compact dd')),
        idTop: id?.getBoundingClientRect().top ?? 1e9,
        labelTop: el.querySelector('.facts-compact')?.getBoundingClientRect().top ?? 0,
      };
    });
    expect(layout.text.indexOf('DECC0101782')).toBeLessThan(
      layout.text.indexOf('Issuing CA HSM, rack B'),
    );
    expect(layout.idTop).toBeLessThan(layout.labelTop);
    expect(layout.idSize).toBeGreaterThan(layout.labelSize * 1.3);
    expect(layout.text).toMatch(/Stated by the requester \(not verified\)/i);
    expect(layout.text).not.toMatch(/sign the challenge/i);
  });

  it('approving a device makes it known for its other ceremonies', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('button', { name: 'Back to ceremonies' }).click();
    await page.getByRole('button', { name: /Rotate the OCSP responder key/ }).click();
    await page.getByRole('region', { name: 'Checked by this app' }).waitFor();
    expect(await page.getByRole('region', { name: 'Checked by this app' }).innerText()).toMatch(
      /You approved this device before \(once/,
    );
  });

  it('a non-genuine target is never under "Waiting for you" nor in the count', async () => {
    const { page } = await ui.open('test-root');
    await page.getByText('Waiting for you (1)').waitFor();
    const count = page.locator('.nav-count');
    expect(await count.innerText()).toBe('1');
    expect(await count.getAttribute('aria-label')).toBe('1 waiting');
    const apart = page.getByRole('heading', { name: 'Do not approve (1)' });
    await apart.waitFor();
    const row = page.getByRole('button', { name: /NOT GENUINE\s*Issue the TLS sub-CA/ });
    expect(await row.innerText()).toContain('Do not approve');
    expect(await row.innerText()).not.toContain('Waiting for you');
    expect(await row.locator('.countdown').count()).toBe(0);
  });

  it('refused offers are red security alerts with advice and "Decline & report"', async () => {
    const { page, problems } = await ui.open('suspicious');
    const fresh = page.getByRole('alert').filter({ hasText: 'more than one approval' });
    await fresh.waitFor();
    const text = await fresh.innerText();
    expect(text).toContain('SECURITY');
    expect(text).toMatch(/Tell your security officer by phone or in person/);
    expect(text).toContain('the server operator may be the attacker');
    expect(text).toContain('What the server stated (not verified)');
    expect(text).not.toMatch(/§/);
    const border = await fresh.evaluate(
      (e) => (globalThis as unknown as PageWindow).getComputedStyle(e).borderTopColor,
    );
    expect(border).toBe('rgb(180, 35, 24)');
    // The closed one can only be marked as reported; the open one declined and reported.
    const closed = page.locator('.security-alert').filter({ hasText: 'unknown root' });
    expect(await closed.getByRole('button', { name: 'Mark as reported' }).count()).toBe(1);
    expect(await closed.getByRole('button', { name: 'Decline & report' }).count()).toBe(0);
    await fresh.getByRole('button', { name: 'Decline & report' }).click();
    const reported = page.locator('.security-alert-reported').filter({ hasText: 'more than one' });
    await reported.waitFor();
    expect(await reported.innerText()).toContain('Reported. Nothing was signed.');
    const row = page.getByRole('button', { name: /Sign the quarterly CRL/ });
    expect(await row.innerText()).toContain('You declined');
    const calls = await page.evaluate(() => (globalThis as unknown as PageWindow).custodian.calls);
    expect(calls.filter((c) => c.method === 'reportAlert')).toEqual([
      { method: 'reportAlert', request: { alertId: 'a-2' } },
    ]);
    expect(problems).toEqual([]);
  });
});
