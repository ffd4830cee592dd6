import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_PIN } from '../../renderer/dev/fake-bridge';
import { HAVE_CHROMIUM, startUi, type PageWindow, type UiHarness } from './harness';

// States that never contradict, and the PIN dialog (docs/desktop-app.md "States").
const READER = 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00';

async function sent(page: Page, method: string): Promise<unknown[]> {
  return page.evaluate(
    (m) =>
      (globalThis as unknown as PageWindow).custodian.calls
        .filter((c) => c.method === m)
        .map((c) => c.request),
    method,
  );
}

/** Pushes a changed list as main would: ceremony `id` with `patch` applied. */
async function pushChange(page: Page, id: string, patch: Record<string, unknown>) {
  await page.evaluate(
    async ([cid, p]) => {
      const fake = (globalThis as unknown as PageWindow).custodian as unknown as {
        listCeremonies(): Promise<{ ok: boolean; value: { id: string }[] }>;
        emit(m: string, payload: unknown): void;
      };
      const list = await fake.listCeremonies();
      fake.emit(
        'onCeremonies',
        list.value.map((c) => (c.id === cid ? { ...c, ...p } : c)),
      );
    },
    [id, patch] as const,
  );
}

describe.skipIf(!HAVE_CHROMIUM)('states that never contradict, in Chromium', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
  }, 60_000);
  afterAll(async () => ui?.close());

  it('PIN blocked: the dialog closes, Approve is disabled, the card says blocked, SO-PIN advice', async () => {
    const { page } = await ui.open('last-try');
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill('999999');
    await page.getByLabel('I am sure of my PIN and want to use my last try').check();
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText('Your PIN is blocked').first().waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Approve…' }).isDisabled()).toBe(true);
    expect(await page.locator('.view').innerText()).toMatch(/unblock the card with the SO-PIN/);
    await page.getByRole('button', { name: 'Card and reader' }).click();
    await page.getByText('Blocked — ask your security officer').waitFor();
    // Every other ceremony: Approve disabled too.
    await page.getByRole('button', { name: 'Ceremonies' }).click();
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('region', { name: 'Checked by this app' }).waitFor();
    expect(await page.getByRole('button', { name: 'Approve…' }).isDisabled()).toBe(true);
  });

  for (const [what, patch, words] of [
    [
      'expired by its expiresAt (server still says waiting)',
      { expiresAt: '2020-01-01T00:00:00.000Z' },
      'This ceremony has expired',
    ],
    ['cancelled', { status: 'cancelled' }, 'This ceremony is already decided'],
    [
      'quorum reached elsewhere',
      { status: 'quorum', approvals: 2 },
      'This ceremony is already decided',
    ],
  ] as const) {
    it(`${what} while the PIN dialog is open: closes with an explanation, no PIN sent`, async () => {
      const { page } = await ui.open('normal');
      await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
      await page.getByRole('button', { name: 'Approve…' }).click();
      await page.getByLabel('Card PIN').fill(FAKE_PIN);
      await pushChange(page, 'c-7f3a91', patch);
      await page.getByText(words).waitFor();
      expect(await page.getByRole('dialog').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Approve…' }).count()).toBe(0);
      expect(await sent(page, 'approveCeremony')).toEqual([]);
      expect(await page.content()).not.toContain(FAKE_PIN);
    });
  }

  /** The server replaces c-7f3a91's offer by one stating `purpose` (fake hook). */
  async function replaceOffer(page: Page, purpose: string) {
    await page.evaluate((p) => {
      const fake = (globalThis as unknown as PageWindow).custodian as unknown as {
        replaceOffer(id: string, purpose: string): void;
      };
      fake.replaceOffer('c-7f3a91', p);
    }, purpose);
  }
  const NEW_PURPOSE = 'Sign a CRL of Other CA 9';

  it('offer replaced while the PIN dialog is open: closes, explains, shows the new offer, no PIN sent', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await replaceOffer(page, NEW_PURPOSE);
    await page.getByText('The server changed this request').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.getByRole('heading', { name: NEW_PURPOSE }).waitFor();
    expect(await sent(page, 'approveCeremony')).toEqual([]);
    expect(await page.content()).not.toContain(FAKE_PIN);
    // Approving now is for the new offer only, after a new review and a new PIN entry.
    await page.getByRole('button', { name: 'Approve…' }).click();
    expect(await page.getByLabel('Card PIN').inputValue()).toBe('');
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('heading', { name: 'Your approval was accepted' }).waitFor();
    const [req] = (await sent(page, 'approveCeremony')) as { offerId: string }[];
    expect(req?.offerId).toMatch(/-r$/);
  });

  it('offer replaced while the approval is on its way: main refuses it, the dialog closes, the new offer shows', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    // The replacement reaches main before its list push reaches this window.
    await page.evaluate((p) => {
      const fake = (globalThis as unknown as PageWindow).custodian as unknown as {
        replaceOffer(id: string, purpose: string, quiet: boolean): void;
      };
      fake.replaceOffer('c-7f3a91', p, true);
    }, NEW_PURPOSE);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText('The server changed this request').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.getByRole('heading', { name: NEW_PURPOSE }).waitFor();
    const reqs = (await sent(page, 'approveCeremony')) as { offerId: string }[];
    expect(reqs).toHaveLength(1);
    expect(reqs[0]?.offerId).not.toMatch(/-r$/);
    expect(await page.getByRole('heading', { name: 'Your approval was accepted' }).count()).toBe(0);
  });

  it('a ceremony past its expiry by this clock is never "waiting" in the list or the count', async () => {
    const { page } = await ui.open('normal');
    await page.getByText('Waiting for you (2)').waitFor();
    await pushChange(page, 'c-7f3a91', { expiresAt: '2020-01-01T00:00:00.000Z' });
    await page.getByText('Waiting for you (1)').waitFor();
    expect(await page.locator('.nav-count').innerText()).toBe('1');
    const row = page.getByRole('button', { name: /Sign the quarterly CRL/ });
    expect(await row.innerText()).toContain('Expired');
  });

  it('offline: a banner with since when, counts unknown, never "nothing waiting"', async () => {
    const { page } = await ui.open('empty');
    await page.getByText('Nothing waits for your approval').waitFor();
    await page.evaluate(() => {
      const fake = (globalThis as unknown as PageWindow).custodian;
      fake.emit('onServers', [
        {
          url: 'https://custody.acme.example',
          name: 'Acme PKI Operations',
          custodianName: 'Alice Martin',
          tlsFingerprint: 'B1946AC92492D2347C6235B4D2611184B1946AC92492D2347C6235B4D2611184',
          anchors: [],
          id: 'srv-acme',
          state: 'offline',
        },
      ]);
    });
    const banner = page.locator('.offline-banner');
    await banner.waitFor();
    expect(await banner.innerText()).toMatch(
      /^Not connected to Acme PKI Operations since \d\d:\d\d — retrying/,
    );
    expect(await page.getByText('Nothing waits for your approval').count()).toBe(0);
    await page.getByText('Waiting for you (unknown while not connected)').waitFor();
    expect(await page.locator('.nav-count').innerText()).toBe('?');
    expect(await page.locator('.nav-count').getAttribute('aria-label')).toBe('count unknown');
  });

  it('after quorum the others read "not needed"; the result does not overclaim', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /Back up the DKEK/ }).click();
    const carol = page.locator('.custodian').filter({ hasText: 'Carol Nguyen' });
    await carol.waitFor();
    expect(await carol.innerText()).toContain('Not needed');
    expect(await carol.innerText()).not.toContain('Not yet');
    await page.getByRole('button', { name: '← All ceremonies' }).click();
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    const card = page.locator('.result-card');
    await card.getByText('Your approval was counted').waitFor();
    expect(await card.innerText()).not.toMatch(/unlocked/i);
  });

  it('PIN dialog: where the PIN goes, countdown, quorum, no browser bubbles', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    const text = await dialog.innerText();
    expect(text).toContain(`Your PIN goes only to the card in ${READER}, never to the server.`);
    expect(text).toMatch(/Time left\s+\d+ min \d\d s left/);
    expect(text).toMatch(/0 of 2 approvals so far \(3 custodians\)/);
    await page.getByLabel('Card PIN').fill('12');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await dialog.getByText('The PIN has 6 to 16 characters').waitFor();
    const bubble = await page
      .getByLabel('Card PIN')
      .evaluate((e) => (e as unknown as { validationMessage: string }).validationMessage);
    expect(bubble).toBe('');
    expect(await sent(page, 'approveCeremony')).toEqual([]);
  });

  it('last try: one message, with the confirmation inside it', async () => {
    const { page } = await ui.open('last-try');
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('This is your last try').waitFor();
    expect(
      await dialog
        .locator('.notice')
        .filter({ hasText: /last try/i })
        .count(),
    ).toBe(1);
    expect(await dialog.locator('.tries').count()).toBe(0);
    expect((await dialog.innerText()).match(/last try/gi)?.length).toBe(3); // title, text, checkbox
    expect(await dialog.locator('.notice #confirm-last-try').count()).toBe(1);
  });

  it('PIN pad: press Approve, then the keypad; a visible waiting state', async () => {
    const { page } = await ui.open('pinpad');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText("Press Approve, then enter the PIN on your reader's keypad").waitFor();
    expect(await dialog.innerText()).toContain('Your PIN stays in the reader');
    expect(await dialog.getByRole('button', { name: 'Cancel' }).isEnabled()).toBe(true);
  });
});

describe.skipIf(!HAVE_CHROMIUM)('APDU trace in plain words, in Chromium', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
  }, 60_000);
  afterAll(async () => ui?.close());

  it('a ceremony column and filter, rule names in plain words, no "§"', async () => {
    const { page } = await ui.open('hostile');
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('button', { name: 'APDU trace', exact: true }).click();
    const table = page.locator('table.trace');
    await table.waitFor();
    expect(await table.locator('th').allInnerTexts()).toContain('Ceremony');
    const text = await page.locator('.view').innerText();
    expect(text).not.toMatch(/§|reference/);
    expect(text).toContain('Sign with a key you did not approve (not allowed)');
    expect(text).toContain('Wipe and initialize the card (not allowed)');
    const rows = () => table.locator('tbody tr').count();
    const all = await rows();
    await page.getByLabel('Ceremony').selectOption('c-5d2107');
    expect(await rows()).toBe(3);
    expect(await table.locator('tbody').innerText()).not.toContain('c-11aa40');
    await page.getByLabel('Ceremony').selectOption('');
    expect(await rows()).toBe(all);
  });
});
