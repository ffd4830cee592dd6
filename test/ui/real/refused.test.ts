import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEngineBackend,
  type EngineBackend,
} from '../../../core/desktop-backend/engine-backend';
import { HAVE_CHROMIUM, type PageWindow } from '../harness';
import { emulatedCardAccess } from '../../unit/core/desktop-backend/emulated-cards';
import { startLoopback, type Loopback, type LoopbackPage } from './loopback';
import { buildWorld, type World } from './world';

// The refused-offer alert against the REAL engine and the REAL server (issue 9 §1): Dave's app
// trusts the production root only — no test root configured — so when the operator requests a
// ceremony, the real engine refuses the offer of the emulator's TEST-rooted target. The UI must
// say so in red, with advice, never list it under "Waiting for you", never count it.
const CI = process.env['CI'] === 'true';

describe.runIf(CI && !HAVE_CHROMIUM)('real-engine refused-offer UI in CI', () => {
  it('needs Debian Chromium at /usr/bin/chromium', () => expect(HAVE_CHROMIUM).toBe(true));
});

describe.skipIf(!HAVE_CHROMIUM)('a refused offer in the desktop UI, real engine', () => {
  let ui: Loopback;
  let world: World;
  let dave: EngineBackend;
  let page: LoopbackPage;

  beforeAll(async () => {
    [ui, world] = await Promise.all([startLoopback(), buildWorld()]);
    dave = await createEngineBackend({
      // No config.json: the production root built in, nothing else.
      home: mkdtempSync(join(tmpdir(), 'custodian-dave-')),
      cards: emulatedCardAccess([
        { name: 'Emulated SmartCard-HSM (Dave) 00 00', card: world.cards.a.card, opens: 0 },
      ]),
      resultTimeoutMs: 10_000,
    });
    const invite = await world.invite('Dave');
    const preview = await dave.previewServer({ url: world.server.url, invite });
    if (!preview.ok) throw new Error(JSON.stringify(preview.error));
    const added = await dave.addServer({ url: world.server.url, invite });
    if (!added.ok) throw new Error(JSON.stringify(added.error));
    dave.start();
    page = await ui.open(dave, { height: 900 });
  }, 120_000);
  afterAll(async () => {
    await page?.close();
    await ui?.close();
    await dave?.stop();
    await world?.close();
  });

  it('an offer chaining to a root this app does not trust is a red alert, not a request', async () => {
    const r = await world.admin<{ id: string }>('POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'Sign release 4.2',
      requester: 'ci',
    });
    expect(r.status).toBe(201);
    const p = page.page;
    const alert = p.getByRole('alert').filter({ hasText: 'unknown root' });
    await alert.waitFor({ timeout: 20_000 });
    const text = await alert.innerText();
    expect(text).toContain('SECURITY');
    expect(text).toContain('Refused: the target chains to an unknown root');
    expect(text).toMatch(/Tell your security officer by phone or in person/);
    // What the server claimed is shown as a claim, with the device it named.
    expect(text).toContain('What the server stated (not verified)');
    expect(text).toContain('Sign release 4.2');
    const border = await alert.evaluate(
      (e) => (globalThis as unknown as PageWindow).getComputedStyle(e).borderTopColor,
    );
    expect(border).toBe('rgb(180, 35, 24)');
    expect(text).toContain('This app already refused it: nothing reached your card');
    // Never a request to approve: nothing under "Waiting for you", no approve button anywhere.
    await p.getByRole('heading', { name: /Waiting for you \(0\)/i }).waitFor();
    expect(await p.getByText('Nothing waits for your approval').count()).toBe(1);
    expect(await p.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    if (process.env['UPDATE_SCREENSHOTS'] === '1')
      await p.screenshot({ path: 'docs/screenshots/real-refused-offer.png', fullPage: true });
    // The engine refused it, so the server never got an approval from Dave's card.
    const c = await world.admin<{ answers: { custodian: string; outcome: string }[] }>(
      'GET',
      `/api/ceremonies/${r.body.id}`,
    );
    expect(
      c.body.answers.filter((a) => a.custodian === 'Dave' && a.outcome === 'approved'),
    ).toEqual([]);
    expect(page.problems).toEqual([]);
  });
});
