import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_PIN } from '../../renderer/dev/fake-bridge';
import { HAVE_CHROMIUM, startUi, type PageWindow, type UiHarness } from './harness';

// The renderer in real Chromium with the fake bridge: the custodian's main journeys,
// driven like a person would (labels, roles, keyboard), under the production CSP.
describe.skipIf(!HAVE_CHROMIUM)('custodian journeys in Chromium', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
  }, 60_000);
  afterAll(async () => ui?.close());

  it('first run: checks the invitation, flags the test root, then connects', async () => {
    const { page, problems } = await ui.open('first-run');
    await page.getByLabel('Server address').fill('https://custody.acme.example');
    await page.getByLabel('Invitation').fill('inv_4f7Qk2mZ9xT1cV8bN3');
    await page.getByRole('button', { name: 'Check invitation' }).click();
    const anchors = page.getByRole('list', { name: 'Trust anchors' });
    await expect.poll(() => anchors.locator('li').count()).toBe(2);
    const testAnchor = anchors.locator('li.anchor-test');
    expect(await testAnchor.innerText()).toContain('Test root — not for production');
    const color = await testAnchor
      .locator('.anchor-name')
      .evaluate((e) => (globalThis as unknown as PageWindow).getComputedStyle(e).color);
    expect(color).toBe('rgb(180, 35, 24)');
    expect(await page.getByRole('alert').innerText()).toContain('This server trusts a test root');
    await page.getByRole('button', { name: 'Connect to this server' }).click();
    await page.getByRole('list', { name: 'Setup steps' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Card and reader' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('first run: a pasted letter names the server, fills the address, compares the fingerprint', async () => {
    const { page, problems } = await ui.open('first-run');
    const letter = [
      'invite for alice at target t1:',
      'server name:      Acme PKI Operations',
      'server URL:       wss://custody.acme.example:8443/ws',
      'TLS fingerprint:  B1:94:6A:C9:24:92:D2:34:7C:62:35:B4:D2:61:11:84:B1:94:6A:C9:24:92:D2:34:7C:62:35:B4:D2:61:11:84',
      'enrollment token: inv_4f7Qk2mZ9xT1cV8bN3xx',
      'valid until:      2026-12-09T10:00:00.000Z (single use)',
    ].join('\n');
    await page.getByLabel('Invitation').fill(letter);
    expect(await page.getByLabel('Server address').inputValue()).toBe(
      'https://custody.acme.example:8443',
    );
    await page.getByRole('button', { name: 'Check invitation' }).click();
    const server = page.locator('.fact', { hasText: 'Server' }).first();
    await server.waitFor();
    // The name as the invitation gives it, and always the host beside it.
    const text = await server.innerText();
    expect(text).toContain('Acme PKI Operations');
    expect(text).toContain('as your invitation names it');
    expect(text).toContain('https://custody.acme.example:8443');
    expect(await page.locator('#fingerprint-result').innerText()).toMatch(/^✓ Matches/);
    await page.getByRole('button', { name: 'Connect to this server' }).click();
    const steps = page.getByRole('list', { name: 'Setup steps' });
    await steps.waitFor();
    expect((await steps.locator('li').allInnerTexts()).map((t) => t.split('\n')[0])).toEqual([
      '✓',
      '✓',
      '✓',
      '✓',
    ]);
    const all = await steps.innerText();
    expect(all).toMatch(
      /Server connected: Acme PKI Operations[\s\S]*Card found[\s\S]*Key registered[\s\S]*Done/,
    );
    expect(await page.locator('.enrolled').innerText()).toMatch(/what happens next/i);
    expect(problems).toEqual([]);
  });

  it('first run: a bare token shows the host, not a name the app was never given', async () => {
    const { page } = await ui.open('first-run');
    await page.getByLabel('Server address').fill('https://custody.acme.example');
    await page.getByLabel('Invitation').fill('inv_4f7Qk2mZ9xT1cV8bN3');
    await page.getByRole('button', { name: 'Check invitation' }).click();
    const text = await page.locator('.fact', { hasText: 'Server' }).first().innerText();
    expect(text).toContain('custody.acme.example');
    expect(text).not.toContain('as your invitation names it');
  });

  it('first run offers "start at login" and saves it only when ticked', async () => {
    for (const tick of [false, true]) {
      const { page } = await ui.open('first-run');
      await page.getByLabel('Server address').fill('https://custody.acme.example');
      await page.getByLabel('Invitation').fill('inv_4f7Qk2mZ9xT1cV8bN3');
      await page.getByRole('button', { name: 'Check invitation' }).click();
      const box = page.getByLabel(/Start Custodian when I log in/);
      expect(await box.isChecked()).toBe(false);
      if (tick) await box.check();
      await page.getByRole('button', { name: 'Connect to this server' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Card and reader' }).waitFor();
      const saved = await page.evaluate(() =>
        (globalThis as unknown as PageWindow).custodian.calls
          .filter((c) => c.method === 'updateSettings')
          .map((c) => c.request),
      );
      expect(saved).toEqual(tick ? [{ startAtLogin: true }] : []);
    }
  });

  it('first run: an expired invitation is explained in words', async () => {
    const { page } = await ui.open('first-run');
    await page.getByLabel('Server address').fill('https://custody.acme.example');
    await page.getByLabel('Invitation').fill('expired-4f7Qk2mZ9xT1cV8bN3');
    await page.getByRole('button', { name: 'Check invitation' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('This invitation has expired');
  });

  it('approve: wrong PIN shows tries left, right PIN shows the result and the trace', async () => {
    const { page, problems } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('heading', { name: /Sign the quarterly CRL/ }).waitFor();
    expect(await page.locator('.content').innerText()).toContain('DECC0101782');
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve with your card' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('3 tries left');
    await page.getByLabel('Card PIN').fill('000000');
    await page.keyboard.press('Enter');
    await dialog.getByText('Wrong PIN').waitFor();
    expect(await dialog.innerText()).toContain('2 tries are left');
    expect(await page.getByLabel('Card PIN').inputValue()).toBe('');
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('heading', { name: 'Your approval was accepted' }).waitFor();
    expect(await page.locator('.result-card').innerText()).toContain('1 of 2 approvals');
    // The PIN is nowhere in the page any more.
    expect(await page.content()).not.toContain(FAKE_PIN);
    await page.getByRole('button', { name: 'Back to ceremonies' }).click();
    expect(await page.locator('.nav-count').innerText()).toBe('1');
    await page.getByRole('button', { name: 'APDU trace' }).click();
    await page.getByText('sign-pka-input').first().waitFor();
    expect(problems).toEqual([]);
  });

  it('approve on the last try warns before the PIN is sent', async () => {
    const { page } = await ui.open('last-try');
    await page.getByRole('button', { name: 'Card and reader' }).click();
    await page.getByText('Set — last try left').waitFor();
    await page.getByRole('button', { name: 'Ceremonies' }).click();
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('This is your last try').waitFor();
    expect(await dialog.innerText()).toContain('Last try: a wrong PIN now blocks your card.');
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    const approve = dialog.getByRole('button', { name: 'Approve', exact: true });
    expect(await approve.isDisabled()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await dialog.isVisible()).toBe(true);
    await page.getByLabel('I am sure of my PIN and want to use my last try').check();
    await approve.click();
    await page.getByRole('heading', { name: 'Quorum reached' }).waitFor();
    const sent = await page.evaluate(() =>
      (globalThis as unknown as PageWindow).custodian.calls
        .filter((c) => c.method === 'approveCeremony')
        .map((c) => c.request),
    );
    expect(sent).toEqual([
      {
        ceremonyId: 'c-5d2107',
        offerId: 'o-5d2107',
        offerDigest: '5d2107'.repeat(11).slice(0, 64),
        reader: 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00',
        pin: '***',
        confirmLastTry: true,
      },
    ]);
  });

  it('a TEST target: red flag in the list, the detail and the PIN dialog; approvable only once acknowledged, per visit', async () => {
    const { page, problems } = await ui.open('test-root');
    const row = page.getByRole('button', { name: /Sign the quarterly CRL/ });
    const red = (loc: ReturnType<typeof page.locator>) =>
      loc.evaluate(
        (e) => (globalThis as unknown as PageWindow).getComputedStyle(e).backgroundColor,
      );
    const rowFlag = row.locator('.flag-test');
    expect(await rowFlag.innerText()).toBe('TEST');
    expect(await red(rowFlag)).toBe('rgb(180, 35, 24)');
    // The other target's chain ends in an unknown root: flagged, never approvable.
    expect(
      await page
        .getByRole('button', { name: /TLS sub-CA/ })
        .locator('.flag-danger')
        .innerText(),
    ).toBe('NOT GENUINE');

    await row.click();
    await page.getByRole('heading', { name: 'Checked by this app' }).waitFor();
    expect(await page.locator('.detail-title .flag-test').innerText()).toBe('TEST');
    const ack = page.getByLabel(/I know this target chains to the TEST root UTSRCACC100001/);
    const approve = page.getByRole('button', { name: 'Approve…' });
    expect(await ack.isChecked()).toBe(false);
    expect(await approve.isDisabled()).toBe(true);
    await ack.check();
    expect(await approve.isEnabled()).toBe(true);
    await ack.uncheck();
    expect(await approve.isDisabled()).toBe(true);
    await ack.check();
    // Never remembered: back to the list and in again, the box is unticked.
    await page.getByRole('button', { name: '← All ceremonies' }).click();
    await row.click();
    await page.getByRole('heading', { name: 'Checked by this app' }).waitFor();
    expect(await ack.isChecked()).toBe(false);
    expect(await approve.isDisabled()).toBe(true);
    await ack.check();
    await approve.click();
    const dialog = page.getByRole('dialog', { name: 'Approve with your card' });
    await dialog.waitFor();
    expect(await dialog.locator('.flag-test').innerText()).toBe('TEST');
    expect(await dialog.innerText()).toContain('UTSRCACC100001');
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your approval was accepted' }).waitFor();
    const sent = await page.evaluate(() =>
      (globalThis as unknown as PageWindow).custodian.calls
        .filter((c) => c.method === 'approveCeremony')
        .map((c) => c.request),
    );
    expect(sent).toEqual([
      {
        ceremonyId: 'c-7f3a91',
        offerId: 'o-7f3a91',
        offerDigest: '7f3a91'.repeat(11).slice(0, 64),
        reader: 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00',
        pin: '***',
        acknowledgeTestAnchor: 'UTSRCACC100001',
      },
    ]);
    expect(problems).toEqual([]);
  });

  it('a target that is not genuine: "Do not approve", no acknowledgement offered, button disabled', async () => {
    const { page } = await ui.open('test-root');
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('heading', { name: 'Checked by this app' }).waitFor();
    expect(await page.getByRole('alert').innerText()).toContain('Do not approve');
    expect(await page.getByRole('checkbox').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Approve…' }).isDisabled()).toBe(true);
  });

  it('PIN-pad readers get the keypad instruction instead of a PIN field', async () => {
    const { page } = await ui.open('pinpad');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText("Enter the PIN on your reader's keypad").waitFor();
    expect(await dialog.locator('input[type=password]').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Your approval was accepted' }).waitFor();
  });

  it('PIN pad: Cancel in the dialog ends the keypad entry, nothing is approved, it is audited', async () => {
    const { page, problems } = await ui.open('pinpad');
    await page.evaluate(() => (globalThis as unknown as PageWindow).custodian.holdKeypad());
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    // The visible waiting state, and a Cancel that works while the reader waits.
    await dialog.getByRole('button', { name: 'Waiting for the keypad…' }).waitFor();
    expect(await dialog.getByRole('status').innerText()).toContain('press Cancel here');
    const cancel = dialog.getByRole('button', { name: 'Cancel' });
    expect(await cancel.isEnabled()).toBe(true);
    await cancel.click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('PIN entry cancelled').first().waitFor();
    const calls = await page.evaluate(() =>
      (globalThis as unknown as PageWindow).custodian.calls.map((c) => c.method),
    );
    expect(calls).toContain('cancelPinPad');
    // Still waiting for this custodian: nothing was approved.
    expect(await page.locator('.detail-title').innerText()).toMatch(/Waiting for you/i);
    await page.getByRole('button', { name: 'Audit log' }).click();
    await page.getByText('PIN entry cancelled by you').waitFor();
    expect(problems).toEqual([]);
  });

  it('a hostile server: the result says what was blocked, the trace shows it', async () => {
    const { page } = await ui.open('hostile');
    await page.getByRole('button', { name: /TLS sub-CA/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill(FAKE_PIN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Quorum reached' }).waitFor();
    expect(await page.locator('.result-card').innerText()).toContain(
      'The app blocked 1 command from the server',
    );
    await page.getByRole('button', { name: 'Open APDU trace' }).click();
    await page.getByRole('button', { name: /Blocked \(2\)/ }).click();
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().innerText()).toContain('80 68 02 73');
  });

  it('decline with a reason, by keyboard only', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Decline' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Decline this ceremony' });
    await dialog.waitFor();
    await page.getByLabel('Reason (optional)').fill('Not in the change calendar');
    await dialog.getByRole('button', { name: 'Decline' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'You declined' }).waitFor();
  });

  it('Escape closes the PIN dialog without sending anything', async () => {
    const { page } = await ui.open('normal');
    await page.getByRole('button', { name: /Sign the quarterly CRL/ }).click();
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('Card PIN').fill('123');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const calls = await page.evaluate(() =>
      (globalThis as unknown as PageWindow).custodian.calls.map((c) => c.method),
    );
    expect(calls).not.toContain('approveCeremony');
  });
});
