import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, type PageWindow } from '../harness';
import { startLoopback, type Loopback, type LoopbackPage } from './loopback';
import { PIN, bobApproves, buildWorld, type World } from './world';
import { shownOffer } from '../../integration/custodian/offer-ref';

// The renderer in Chromium against the REAL engine: a full 2-of-3 ceremony with the real
// server in-process and emulated cards. A = this UI (enrolled through the first-run view),
// B = an in-process engine, C = a second UI. Both UI apps build in the production root only and
// have the emulator's test root configured (custodian config), so the target is a TEST target:
// flagged red, approvable only after the custodian's explicit acknowledgement.
// Screenshots go to docs/screenshots/real-*.png with UPDATE_SCREENSHOTS=1.
const CI = process.env['CI'] === 'true';
const shots =
  process.env['UPDATE_SCREENSHOTS'] === '1'
    ? 'docs/screenshots'
    : mkdtempSync(join(tmpdir(), 'custodian-real-shots-'));
mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(shots, `real-${name}.png`), fullPage: true });

describe.runIf(CI && !HAVE_CHROMIUM)('real-engine UI in CI', () => {
  it('needs Debian Chromium at /usr/bin/chromium', () => expect(HAVE_CHROMIUM).toBe(true));
});

describe.skipIf(!HAVE_CHROMIUM)('the desktop UI against the real engine', () => {
  let ui: Loopback;
  let world: World;
  let alice: LoopbackPage;
  let carol: LoopbackPage;
  let ceremonyId = '';
  let deviceId = '';

  beforeAll(async () => {
    [ui, world] = await Promise.all([startLoopback(), buildWorld()]);
    alice = await ui.open(world.alice, { height: 900 });
    carol = await ui.open(world.carol, { height: 900 });
  }, 120_000);
  afterAll(async () => {
    await alice?.close();
    await carol?.close();
    await ui?.close();
    await world?.close();
  });

  it('first run: checks the invitation, enrolls the card with the server, shows the card', async () => {
    const page = alice.page;
    await page.getByLabel('Server address').fill(world.server.url);
    // The whole letter as the admin's CLI printed it: the server's name, address, fingerprint.
    await page.getByLabel('Invitation').fill(await world.letter('Alice'));
    await page.getByRole('button', { name: 'Check invitation' }).click();
    await page.getByRole('list', { name: 'Trust anchors' }).waitFor();
    // Named as the invitation names it, never only by 127.0.0.1:port, and the host beside it.
    const server = await page.locator('.fact', { hasText: 'Server' }).first().innerText();
    expect(server).toContain('Acme PKI (test)');
    expect(server).toContain('as your invitation names it');
    expect(server).toContain(world.server.url);
    // The letter's fingerprint is compared by the app, not by eye.
    expect(await page.locator('#fingerprint-result').innerText()).toMatch(/^✓ Matches/);
    // The certificate fingerprint the app read over TLS, for comparison with the letter.
    const certificate = page
      .locator('.fact', { hasText: 'Server certificate' })
      .locator('.fingerprint');
    const shown = (await certificate.innerText()).replace(/\s+/g, '');
    expect(shown).toBe(world.fingerprint);
    await shot(page, 'first-run');
    await page.getByRole('button', { name: 'Connect to this server' }).click();
    // What enrolling did, step by step, and what happens next.
    const steps = page.getByRole('list', { name: 'Setup steps' });
    await steps.waitFor();
    const stepText = await steps.innerText();
    expect(stepText).toMatch(
      /Server connected: Acme PKI \(test\)[\s\S]*Card found[\s\S]*Key registered[\s\S]*Done/,
    );
    expect(stepText).toContain(world.cards.a.chr);
    expect(stepText).toContain('certificate pinned');
    await shot(page, 'first-run-done');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Card and reader' }).waitFor();
    await page.getByText(world.cards.a.chr).first().waitFor();
    const text = await page.locator('.content').innerText();
    expect(text).toContain('3 tries left');
    await shot(page, 'card');
    // The server checked the attested key and registered it at the target: with B and C, all
    // three PKA slots are used (docs/card-reference.md §6.4, read from the card).
    const t = await world.admin<{ pka?: { missing: number }; custodians: { name: string }[] }>(
      'GET',
      '/api/targets/t1',
    );
    expect(t.body.pka?.missing).toBe(0);
    expect(t.body.custodians.map((c) => c.name).sort()).toEqual(['Alice', 'Bob', 'Carol']);
    expect(alice.problems).toEqual([]);
  });

  it('the operator requests a ceremony: the offer appears with device id, quorum and countdown', async () => {
    const r = await world.admin<{ id: string; deviceId: string }>('POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'Unlock the release signing key for v4.2',
      requester: 'Olga Petrova (release manager)',
    });
    expect(r.status).toBe(201);
    ceremonyId = r.body.id;
    deviceId = r.body.deviceId;
    const page = alice.page;
    await page.getByRole('button', { name: 'Ceremonies' }).click();
    const row = page.getByRole('button', { name: /Unlock the release signing key/ });
    await row.waitFor({ timeout: 10_000 });
    expect(await page.locator('.nav-count').innerText()).toBe('1');
    expect(await row.locator('.flag-test').innerText()).toBe('TEST');
    await shot(page, 'ceremonies');
    await row.click();
    await page.getByRole('heading', { name: 'Checked by this app' }).waitFor();
    const text = await page.locator('.content').innerText();
    expect(text).toContain(deviceId);
    expect(text).toContain('Olga Petrova (release manager)');
    expect(text).toContain('Quorum: 0 of 2 approvals (3 custodians)');
    // The server names every custodian; the app marks its own (docs/protocol.md §5.2).
    const people = await page.locator('.custodians li').allInnerTexts();
    expect(people.map((p) => p.split('\n')[0]).sort()).toEqual(['Alice (you)', 'Bob', 'Carol']);
    expect(text).not.toContain('not named');
    // "Requested at" is the server's time of request, not when this app happened to see it.
    expect(text).toMatch(/Requested at\s+\S/);
    expect(text).not.toContain('First seen here');
    expect(text).toMatch(/left/); // the countdown
    expect(text).toContain(`Test device, chains to test root ${world.testRootChr}`);
    expect(await page.locator('.detail-title .flag-test').innerText()).toBe('TEST');
    // Trust cues from the real engine: what the app checked apart from what the server says.
    const checked = await page.getByRole('region', { name: 'Checked by this app' }).innerText();
    const stated = await page
      .getByRole('region', { name: 'Stated by the requester (not verified)' })
      .innerText();
    expect(checked).toContain(deviceId);
    expect(checked).toContain(`Test device, chains to test root ${world.testRootChr}`);
    expect(checked).toContain('cannot unlock any other device');
    for (const claim of ['Release signing HSM', 'Olga Petrova', 'Unlock the release signing key']) {
      expect(checked).not.toContain(claim);
      expect(stated).toContain(claim);
    }
    // This computer never approved the device: warned, naming the server as invited.
    const first = page.locator('.first-time');
    expect(await first.innerText()).toContain(
      `You have never approved ${deviceId} on Acme PKI (test) before`,
    );
    await shot(page, 'ceremony-detail');
  });

  it('C sees the TEST flag, is not able to approve without acknowledging, and declines', async () => {
    const page = carol.page;
    const row = page.getByRole('button', { name: /Unlock the release signing key/ });
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await page.getByRole('heading', { name: 'Checked by this app' }).waitFor();
    const text = await page.locator('.content').innerText();
    expect(text).toContain('Test device, chains to test root');
    expect(text).toContain('This target chains to a TEST root');
    const ack = page.getByLabel(
      `I know this target chains to the TEST root ${world.testRootChr} configured on this computer, not to CardContact's production root`,
    );
    expect(await ack.isChecked()).toBe(false);
    expect(await page.getByRole('button', { name: 'Approve…' }).isDisabled()).toBe(true);
    await shot(page, 'test-root-flagged');
    // C declines, with a reason, through the real engine.
    await page.getByRole('button', { name: 'Decline' }).click();
    const dialog = page.getByRole('dialog', { name: 'Decline this ceremony' });
    await dialog.waitFor();
    await page.getByLabel('Reason (optional)').fill('The target chains to a test root');
    await dialog.getByRole('button', { name: 'Decline' }).click();
    await page.getByRole('heading', { name: 'You declined' }).waitFor({ timeout: 10_000 });
    const deadline = Date.now() + 5_000;
    let answers: { custodian: string; outcome: string }[] = [];
    while (Date.now() < deadline && answers.length === 0) {
      const snap = await world.admin<{ answers: typeof answers; state: string }>(
        'GET',
        `/api/ceremonies/${ceremonyId}`,
      );
      answers = snap.body.answers;
      expect(snap.body.state).toBe('open'); // A and B can still reach 2 of 3
      if (answers.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(answers.map((a) => a.outcome)).toEqual(['declined']);
    expect(carol.problems).toEqual([]);
  });

  it('A acknowledges the TEST root: the approve button stays disabled until the box is ticked', async () => {
    const page = alice.page;
    const approve = page.getByRole('button', { name: 'Approve…' });
    const ack = page.getByLabel(
      `I know this target chains to the TEST root ${world.testRootChr} configured on this computer, not to CardContact's production root`,
    );
    expect(await ack.isChecked()).toBe(false);
    expect(await approve.isDisabled()).toBe(true);
    await ack.check();
    expect(await approve.isEnabled()).toBe(true);
    await shot(page, 'test-root-acknowledged');
    // The backend refuses a TEST target without the acknowledgement (defence in depth): the
    // same request as the renderer's, minus the field, through the same backend; the card is
    // not even opened.
    const opens = world.aliceReader.opens;
    expect(
      await world.alice.approveCeremony({
        ceremonyId,
        ...(await shownOffer(world.alice, ceremonyId)),
        reader: world.aliceReader.name,
      }),
    ).toMatchObject({ ok: false, error: { code: 'test-anchor-unacknowledged' } });
    expect(world.aliceReader.opens).toBe(opens);
  });

  it('A approves: PIN dialog with the TEST flag, wrong PIN costs a try, right PIN signs; the server counts it', async () => {
    const page = alice.page;
    await page.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve with your card' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('3 tries left');
    expect(await dialog.locator('.flag-test').innerText()).toBe('TEST');
    expect(await dialog.innerText()).toContain(world.testRootChr);
    // The device id the engine checked comes first, above the server's label; the first-time
    // warning follows into the dialog.
    const dialogText = await dialog.innerText();
    expect(dialogText.indexOf(deviceId)).toBeGreaterThanOrEqual(0);
    expect(dialogText.indexOf(deviceId)).toBeLessThan(dialogText.indexOf('Release signing HSM'));
    expect(dialogText).toContain('First request for this device');
    await page.getByLabel('Card PIN').fill('000000');
    await page.keyboard.press('Enter');
    await dialog.getByText('Wrong PIN').waitFor({ timeout: 10_000 });
    expect(await dialog.innerText()).toContain('2 tries are left');
    await shot(page, 'pin-dialog');
    await page.getByLabel('Card PIN').fill(PIN);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page
      .getByRole('heading', { name: 'Your approval was accepted' })
      .waitFor({ timeout: 15_000 });
    expect(await page.locator('.result-card').innerText()).toContain('1 of 2 approvals');
    expect(await page.content()).not.toContain(PIN);
    await shot(page, 'result');
    const snap = await world.admin<{ state: string; progress: { authenticated: number } }>(
      'GET',
      `/api/ceremonies/${ceremonyId}`,
    );
    expect(snap.body.state).toBe('open');
    expect(snap.body.progress.authenticated).toBe(1);
    // Both tries named the acknowledged root in the request.
    const approvals = alice.calls.filter((c) => c.channel === 'custodian:ceremonies:approve');
    expect(
      approvals.map((c) => (c.payload as { acknowledgeTestAnchor?: string }).acknowledgeTestAnchor),
    ).toEqual([world.testRootChr, world.testRootChr]);
  });

  it('B approves: the UI shows the quorum, the server reports it from the card', async () => {
    expect(await bobApproves(world, ceremonyId)).toBe('approved');
    const page = alice.page;
    await page.getByRole('button', { name: 'Back to ceremonies' }).click();
    await page.getByText('Quorum reached').first().waitFor({ timeout: 10_000 });
    await shot(page, 'quorum');
    await page.getByRole('button', { name: /Unlock the release signing key/ }).click();
    await page.getByRole('heading', { name: 'Checked by this app' }).waitFor();
    const detail = await page.locator('.content').innerText();
    expect(detail).toContain('Quorum: 2 of 2 approvals (3 custodians)');
    expect(detail).toContain('Alice');
    expect(detail).toContain('Bob');
    await shot(page, 'quorum-detail');
    const snap = await world.admin<{ state: string; progress: { authenticated: number } }>(
      'GET',
      `/api/ceremonies/${ceremonyId}`,
    );
    expect(snap.body.state).toBe('quorum');
    expect(snap.body.progress.authenticated).toBe(2);
    const t = await world.admin<{ pka?: { authenticated: number } }>('GET', '/api/targets/t1');
    expect(t.body.pka?.authenticated).toBe(2);
  });

  it('the audit log verifies and the trace shows the forwarded PKA SIGN', async () => {
    const page = alice.page;
    await page.getByRole('button', { name: 'Audit log' }).click();
    await page.getByRole('button', { name: 'Verify log' }).click();
    const ok = page.getByRole('status');
    await ok.waitFor();
    expect(await ok.innerText()).toMatch(/intact|verified/i);
    const audit = await page.locator('.content').innerText();
    expect(audit).toContain('Wrong PIN, 2 tries left');
    expect(audit).toMatch(/Enrolled as \S+/);
    expect(audit).toContain('Approved "Unlock the release signing key for v4.2"');
    await shot(page, 'audit-log');
    await page.getByRole('button', { name: 'APDU trace' }).click();
    await page.getByText('sign-pka-input').first().waitFor();
    const trace = await page.locator('.content').innerText();
    expect(trace).toContain('80 68');
    await shot(page, 'apdu-trace');
    expect(alice.problems).toEqual([]);
    // The page has no network: everything went through the bridge (CSP connect-src 'none').
    const fetched = await page.evaluate(async () => {
      try {
        await (globalThis as unknown as PageWindow).fetch('/index.html');
        return 'allowed';
      } catch {
        return 'blocked';
      }
    });
    expect(fetched).toBe('blocked');
    expect(alice.problems.length).toBeGreaterThan(0);
    for (const p of alice.problems) expect(p).toContain('Content Security Policy');
    // The PIN crossed the bridge once per try, in the approve request only.
    const withPin = alice.calls.filter((c) => JSON.stringify(c.payload ?? null).includes(PIN));
    expect(withPin.map((c) => c.channel)).toEqual(['custodian:ceremonies:approve']);
  });
});
