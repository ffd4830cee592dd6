import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_PIN } from '../../renderer/dev/fake-bridge';
import { HAVE_CHROMIUM, startUi, type PageWindow, type UiHarness } from './harness';

// Screenshots of the main screens. `npm run ui:screenshots` (UPDATE_SCREENSHOTS=1) writes them
// to docs/screenshots/ for the README; otherwise they go to a temporary directory, so the
// suite still proves every screen renders without console errors.
const outDir =
  process.env['UPDATE_SCREENSHOTS'] === '1'
    ? 'docs/screenshots'
    : mkdtempSync(join(tmpdir(), 'custodian-shots-'));

type Shot = {
  name: string;
  scenario: string;
  dark?: boolean;
  fullPage?: boolean;
  /** Viewport height (the content pane scrolls inside the window, so full-page cannot grow it). */
  height?: number;
  steps: (page: Page) => Promise<void>;
};

/** The invitation letter as `custodian-server enroll create` prints it. */
const LETTER = [
  'invite for alice at target issuing-ca:',
  'server name:      Acme PKI Operations',
  'server URL:       wss://custody.acme.example/ws',
  'TLS fingerprint:  B1:94:6A:C9:24:92:D2:34:7C:62:35:B4:D2:61:11:84:B1:94:6A:C9:24:92:D2:34:7C:62:35:B4:D2:61:11:84',
  'enrollment token: inv_4f7Qk2mZ9xT1cV8bN3xx',
  'valid until:      2026-12-09T10:00:00.000Z (single use)',
].join('\n');

const openCrl = async (page: Page) => {
  await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
  await page.getByRole('heading', { name: 'Checked by this app' }).waitFor();
};
const openApprove = async (page: Page) => {
  await openCrl(page);
  await page.getByRole('button', { name: 'Approve…' }).click();
  await page.getByRole('dialog').waitFor();
};

const SHOTS: Shot[] = [
  {
    name: 'first-run',
    scenario: 'first-run',
    fullPage: true,
    steps: async (page) => {
      await page.getByLabel('Invitation').fill(LETTER);
      await page.getByRole('button', { name: 'Check invitation' }).click();
      await page.getByRole('list', { name: 'Trust anchors' }).waitFor();
    },
  },
  {
    name: 'first-run-done',
    scenario: 'first-run',
    fullPage: true,
    steps: async (page) => {
      await page.getByLabel('Invitation').fill(LETTER);
      await page.getByRole('button', { name: 'Check invitation' }).click();
      await page.getByRole('button', { name: 'Connect to this server' }).click();
      await page.getByRole('list', { name: 'Setup steps' }).waitFor();
    },
  },
  {
    name: 'card',
    scenario: 'normal',
    steps: async (page) => {
      await page.getByRole('button', { name: 'Card and reader' }).click();
      await page.getByText('ACMEALICE00001').waitFor();
    },
  },
  {
    name: 'ceremonies',
    scenario: 'normal',
    steps: async (page) => void (await page.getByText('Waiting for you (2)').waitFor()),
  },
  { name: 'ceremony-detail', scenario: 'normal', height: 1000, steps: openCrl },
  {
    name: 'offer-changed',
    scenario: 'normal',
    height: 1000,
    steps: async (page) => {
      await openApprove(page);
      await page.evaluate(() => {
        const fake = (globalThis as unknown as PageWindow).custodian as unknown as {
          replaceOffer(id: string, purpose: string): void;
        };
        fake.replaceOffer('c-7f3a91', 'Sign a CRL of Other CA 9');
      });
      await page.getByText('The server changed this request').waitFor();
      await page.getByRole('heading', { name: 'Sign a CRL of Other CA 9' }).waitFor();
    },
  },
  {
    name: 'pin-dialog',
    scenario: 'normal',
    steps: async (page) => {
      await openApprove(page);
      await page.getByLabel('Card PIN').fill('000000');
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').getByText('Wrong PIN').waitFor();
    },
  },
  {
    name: 'pin-dialog-last-try',
    scenario: 'last-try',
    steps: async (page) => {
      await openApprove(page);
      await page.getByText('This is your last try').waitFor();
    },
  },
  {
    name: 'pin-pad',
    scenario: 'pinpad',
    steps: async (page) => {
      await openApprove(page);
      await page.getByText("Enter the PIN on your reader's keypad").waitFor();
    },
  },
  {
    name: 'pin-pad-waiting',
    scenario: 'pinpad',
    steps: async (page) => {
      await page.evaluate(() => (globalThis as unknown as PageWindow).custodian.holdKeypad());
      await openApprove(page);
      await page.getByRole('dialog').getByRole('button', { name: 'Approve' }).click();
      await page.getByRole('button', { name: 'Waiting for the keypad…' }).waitFor();
    },
  },
  {
    name: 'settings-no-tray',
    scenario: 'no-tray',
    height: 1000,
    steps: async (page) => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.locator('#no-tray-note').waitFor();
    },
  },
  {
    name: 'result',
    scenario: 'normal',
    steps: async (page) => {
      await openApprove(page);
      await page.getByLabel('Card PIN').fill(FAKE_PIN);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Your approval was accepted' }).waitFor();
    },
  },
  {
    name: 'test-root-ceremonies',
    scenario: 'test-root',
    steps: async (page) => void (await page.locator('.flag-test').first().waitFor()),
  },
  {
    name: 'test-root-detail',
    scenario: 'test-root',
    height: 1200,
    steps: async (page) => {
      await openCrl(page);
      await page.getByLabel(/I know this target chains to the TEST root/).check();
    },
  },
  {
    name: 'dark-test-root-detail',
    scenario: 'test-root',
    dark: true,
    height: 1200,
    steps: openCrl,
  },
  {
    name: 'test-root-pin-dialog',
    scenario: 'test-root',
    steps: async (page) => {
      await openCrl(page);
      await page.getByLabel(/I know this target chains to the TEST root/).check();
      await page.getByRole('button', { name: 'Approve…' }).click();
      await page.getByRole('dialog').locator('.flag-test').waitFor();
    },
  },
  {
    name: 'audit-log',
    scenario: 'normal',
    steps: async (page) => {
      await page.getByRole('button', { name: 'Audit log' }).click();
      await page.getByRole('button', { name: 'Verify log' }).click();
      await page.getByText(/The log is intact/).waitFor();
    },
  },
  {
    name: 'apdu-trace',
    scenario: 'hostile',
    steps: async (page) => {
      await page.getByRole('button', { name: /TLS sub-CA/ }).click();
      await page.getByRole('button', { name: 'Approve…' }).click();
      await page.getByLabel('Card PIN').fill(FAKE_PIN);
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Open APDU trace' }).click();
      await page.getByText('sign-other-key').waitFor();
    },
  },
  {
    name: 'settings',
    scenario: 'normal',
    steps: async (page) => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
    },
  },
  {
    name: 'dark-ceremonies',
    scenario: 'normal',
    dark: true,
    steps: async (page) => void (await page.getByText('Waiting for you (2)').waitFor()),
  },
  { name: 'dark-ceremony-detail', scenario: 'normal', dark: true, height: 1000, steps: openCrl },
  {
    name: 'first-time-device',
    scenario: 'normal',
    height: 1000,
    steps: async (page) => {
      await page.getByRole('button', { name: /TLS sub-CA/ }).click();
      await page.getByText('First request for this device').waitFor();
    },
  },
  {
    name: 'pin-dialog-first-time',
    scenario: 'normal',
    height: 900,
    steps: async (page) => {
      await page.getByRole('button', { name: /TLS sub-CA/ }).click();
      await page.getByRole('button', { name: 'Approve…' }).click();
      await page.getByRole('dialog').getByText('First request for this device').waitFor();
    },
  },
  {
    name: 'security-alerts',
    scenario: 'suspicious',
    height: 1100,
    steps: async (page) =>
      void (await page.getByRole('button', { name: 'Decline & report' }).waitFor()),
  },
  {
    name: 'dark-security-alerts',
    scenario: 'suspicious',
    dark: true,
    height: 1100,
    steps: async (page) =>
      void (await page.getByRole('button', { name: 'Decline & report' }).waitFor()),
  },
  {
    name: 'not-genuine-apart',
    scenario: 'test-root',
    steps: async (page) =>
      void (await page.getByRole('heading', { name: 'Do not approve (1)' }).waitFor()),
  },
  {
    name: 'error-states',
    scenario: 'errors',
    steps: async (page) => void (await page.getByRole('alert').first().waitFor()),
  },
];

describe.skipIf(!HAVE_CHROMIUM)('screenshots of the main screens', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
    mkdirSync(outDir, { recursive: true });
  }, 60_000);
  afterAll(async () => ui?.close());

  it.each(SHOTS)('$name', async (shot) => {
    const { page, problems } = await ui.open(shot.scenario, {
      ...(shot.dark === true ? { colorScheme: 'dark' as const } : {}),
      ...(shot.height === undefined ? {} : { height: shot.height }),
    });
    await shot.steps(page);
    // Let the countdown and focus rings settle.
    await page.waitForTimeout(150);
    const png = await page.screenshot({ fullPage: shot.fullPage ?? false });
    writeFileSync(join(outDir, `${shot.name}.png`), png);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.length).toBeGreaterThan(15_000);
    expect(problems).toEqual([]);
  });
});
