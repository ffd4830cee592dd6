import { describe, expect, it, vi } from 'vitest';
import { ipcError } from '../../../shared/ipc/errors';
import type { CeremonySummary } from '../../../shared/ipc/model';
import { createFakeBridge, FAKE_PIN, type Scenario } from '../../../renderer/dev/fake-bridge';
import { sortCeremonies, testAckFor } from '../../../renderer/stores/ceremonies-store';
import { createStores } from '../../../renderer/stores/create-stores';
import { TRACE_LIMIT, filterTrace } from '../../../renderer/stores/log-stores';
import { shownOffer } from '../../integration/custodian/offer-ref';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const READER = 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00';

function setup(scenario: Scenario = 'normal') {
  const fake = createFakeBridge({ scenario, now: () => NOW });
  return { fake, stores: createStores(fake, () => NOW) };
}

describe('app store', () => {
  it('routes to first run when no server is configured', async () => {
    const { stores } = setup('first-run');
    await stores.app.getState().load();
    expect(stores.app.getState().status).toBe('ready');
    expect(stores.app.getState().route.view).toBe('first-run');
  });

  it('follows navigation requests from main', async () => {
    const { fake, stores } = setup();
    await stores.app.getState().load();
    expect(stores.app.getState().route.view).toBe('ceremonies');
    fake.emit('onNavigate', { view: 'ceremony', ceremonyId: 'c-5d2107' });
    expect(stores.app.getState().route).toEqual({ view: 'ceremony', ceremonyId: 'c-5d2107' });
    stores.dispose();
    fake.emit('onNavigate', { view: 'audit' });
    expect(stores.app.getState().route.view).toBe('ceremony');
  });

  it('reports a failed start with the error', async () => {
    const { fake } = setup();
    const stores = createStores({
      ...fake,
      getOverview: async () => ({ ok: false, error: ipcError('unavailable', 'x') }),
    });
    await stores.app.getState().load();
    expect(stores.app.getState().status).toBe('failed');
    expect(stores.app.getState().error?.code).toBe('unavailable');
  });
});

describe('servers store (first run)', () => {
  it('reviews the invitation before adding the server', async () => {
    const { fake, stores } = setup('first-run');
    await stores.servers.getState().review(' https://custody.example ', ' inv_abcdefghijklmnop ');
    const s = stores.servers.getState();
    expect(s.step).toBe('review');
    expect(s.preview?.anchors.some((a) => a.test)).toBe(true);
    expect(fake.calls.map((c) => c.method)).toEqual(['previewServer']);
    expect(fake.calls[0]?.request).toEqual({
      url: 'https://custody.example',
      invite: 'inv_abcdefghijklmnop',
    });
    const server = await stores.servers
      .getState()
      .confirm('https://custody.example', 'inv_abcdefghijklmnop');
    expect(server?.id).toBe('srv-new');
    expect(stores.servers.getState().step).toBe('done');
  });

  it('keeps the custodian on the form with the error', async () => {
    const { stores } = setup('first-run');
    await stores.servers.getState().review('https://custody.example', 'expired-abcdefghijklmnop');
    expect(stores.servers.getState().step).toBe('enter');
    expect(stores.servers.getState().error?.code).toBe('invite-expired');
  });
});

describe('ceremonies store', () => {
  it('lists waiting ceremonies first, soonest expiry first', () => {
    const c = (
      id: string,
      status: CeremonySummary['status'],
      expiresAt: string,
      createdAt = '2026-11-27T09:00:00Z',
    ): CeremonySummary => ({
      id,
      status,
      expiresAt,
      createdAt,
      serverId: 's',
      purpose: id,
      requester: 'r',
      targetDeviceId: 'T',
      targetLabel: 'L',
      required: 2,
      total: 3,
      approvals: 0,
    });
    const sorted = sortCeremonies([
      c('old', 'quorum', '2026-11-27T08:00:00Z', '2026-11-26T09:00:00Z'),
      c('late', 'waiting', '2026-11-27T12:00:00Z'),
      c('new', 'expired', '2026-11-27T08:00:00Z', '2026-11-27T07:00:00Z'),
      c('soon', 'waiting', '2026-11-27T10:30:00Z'),
    ]);
    expect(sorted.map((x) => x.id)).toEqual(['soon', 'late', 'new', 'old']);
  });

  it('approves with the PIN, keeps the dialog open on a wrong PIN, never stores the PIN', async () => {
    const { fake, stores } = setup();
    const cer = stores.ceremonies;
    await cer.getState().refresh();
    await cer.getState().open('c-7f3a91');
    cer.getState().openDialog('approve');
    expect(cer.getState().dialog).toEqual({ kind: 'approve', ceremonyId: 'c-7f3a91' });

    expect(await cer.getState().approve(READER, '000000')).toBe(false);
    expect(cer.getState().dialog?.kind).toBe('approve');
    expect(cer.getState().dialogError).toMatchObject({ code: 'pin-wrong', retriesLeft: 2 });
    expect(JSON.stringify(cer.getState())).not.toContain('000000');

    expect(await cer.getState().approve(READER, FAKE_PIN)).toBe(true);
    const s = cer.getState();
    expect(s.dialog).toBeNull();
    expect(s.result).toMatchObject({ ceremonyId: 'c-7f3a91', outcome: 'approved', approvals: 1 });
    expect(s.list.find((c) => c.id === 'c-7f3a91')?.status).toBe('approved');
    expect(JSON.stringify(s)).not.toContain(FAKE_PIN);
    expect(JSON.stringify(fake.calls)).not.toContain(FAKE_PIN);
  });

  it('reaches quorum with the last approval and closes the dialog on hard errors', async () => {
    const { stores } = setup();
    const cer = stores.ceremonies;
    await cer.getState().open('c-5d2107');
    cer.getState().openDialog('approve');
    await cer.getState().approve(READER, FAKE_PIN);
    expect(cer.getState().result?.outcome).toBe('quorum');
    // The ceremony is now decided: a new dialog cannot open.
    await cer.getState().open('c-5d2107');
    cer.getState().openDialog('approve');
    expect(cer.getState().dialog).toBeNull();
  });

  it('refuses the last PIN try until the custodian confirms it', async () => {
    const { stores } = setup('last-try');
    const cer = stores.ceremonies;
    await cer.getState().open('c-7f3a91');
    cer.getState().openDialog('approve');
    expect(await cer.getState().approve(READER, FAKE_PIN)).toBe(false);
    expect(cer.getState().dialogError?.code).toBe('pin-last-try');
    expect(cer.getState().dialog?.kind).toBe('approve');
    expect(await cer.getState().approve(READER, FAKE_PIN, true)).toBe(true);
  });

  it('a TEST target: no approve dialog until acknowledged; the acknowledgement names its root and is never remembered', async () => {
    const { fake, stores } = setup('test-root');
    const cer = stores.ceremonies;
    await cer.getState().refresh();
    // The list carries the chain, so the row can be flagged before it is opened.
    expect(cer.getState().list.find((c) => c.id === 'c-7f3a91')?.targetChain?.status).toBe('test');
    await cer.getState().open('c-7f3a91');
    const root = cer.getState().detail?.targetChain.anchor;
    expect(root).toBe('UTSRCACC100001');
    cer.getState().openDialog('approve');
    expect(cer.getState().dialog).toBeNull();
    cer.getState().acknowledgeTest(true);
    expect(testAckFor(cer.getState().detail, cer.getState().testAck)).toBe(root);
    cer.getState().acknowledgeTest(false);
    expect(cer.getState().testAck).toBeNull();
    cer.getState().acknowledgeTest(true);
    // Leaving and opening the ceremony again clears it: per ceremony, per visit.
    await cer.getState().open('c-09bc12');
    await cer.getState().open('c-7f3a91');
    expect(cer.getState().testAck).toBeNull();
    cer.getState().openDialog('approve');
    expect(cer.getState().dialog).toBeNull();
    cer.getState().acknowledgeTest(true);
    cer.getState().openDialog('approve');
    expect(cer.getState().dialog?.kind).toBe('approve');
    expect(await cer.getState().approve(READER, FAKE_PIN)).toBe(true);
    expect(fake.calls.at(-1)?.request).toEqual({
      ceremonyId: 'c-7f3a91',
      // The offer the detail showed (issue 7 item 3).
      offerId: 'o-7f3a91',
      offerDigest: '7f3a91'.repeat(11).slice(0, 64),
      reader: READER,
      pin: '***',
      acknowledgeTestAnchor: root,
    });
    expect(cer.getState().testAck).toBeNull();
  });

  it('a TEST acknowledgement stops counting when the target changes root; a target not genuine is never approvable', async () => {
    const { fake, stores } = setup('test-root');
    const cer = stores.ceremonies;
    await cer.getState().refresh();
    await cer.getState().open('c-7f3a91');
    cer.getState().acknowledgeTest(true);
    const list = cer
      .getState()
      .list.map((c) =>
        c.id === 'c-7f3a91'
          ? { ...c, targetChain: { status: 'test' as const, anchor: 'UTOTHERROOT001' } }
          : c,
      );
    fake.emit('onCeremonies', list);
    expect(cer.getState().detail?.targetChain.anchor).toBe('UTOTHERROOT001');
    expect(testAckFor(cer.getState().detail, cer.getState().testAck)).toBeUndefined();
    cer.getState().openDialog('approve');
    expect(cer.getState().dialog).toBeNull();

    await cer.getState().open('c-5d2107');
    expect(cer.getState().detail?.targetChain.status).toBe('untrusted');
    cer.getState().acknowledgeTest(true);
    expect(cer.getState().testAck).toBeNull();
    cer.getState().openDialog('approve');
    expect(cer.getState().dialog).toBeNull();
    expect(fake.calls.some((c) => c.method === 'approveCeremony')).toBe(false);
  });

  it('the fake main refuses a TEST target without the acknowledgement, like the engine backend', async () => {
    const fake = createFakeBridge({ scenario: 'test-root', now: () => NOW });
    const base = {
      ceremonyId: 'c-7f3a91',
      ...(await shownOffer(fake, 'c-7f3a91')),
      reader: READER,
      pin: FAKE_PIN,
    };
    expect(await fake.approveCeremony(base)).toMatchObject({
      ok: false,
      error: { code: 'test-anchor-unacknowledged' },
    });
    expect(
      await fake.approveCeremony({
        ...base,
        ceremonyId: 'c-5d2107',
        ...(await shownOffer(fake, 'c-5d2107')),
        acknowledgeTestAnchor: 'X',
      }),
    ).toMatchObject({ ok: false, error: { code: 'chain-invalid' } });
    expect(
      await fake.approveCeremony({ ...base, acknowledgeTestAnchor: 'UTSRCACC100001' }),
    ).toMatchObject({ ok: true });
  });

  it('declines with a trimmed reason', async () => {
    const { fake, stores } = setup();
    const cer = stores.ceremonies;
    await cer.getState().open('c-7f3a91');
    cer.getState().openDialog('decline');
    expect(await cer.getState().decline('  not scheduled  ')).toBe(true);
    expect(cer.getState().result?.outcome).toBe('declined');
    expect(fake.calls.at(-1)?.request).toEqual({ ceremonyId: 'c-7f3a91', reason: 'not scheduled' });
  });

  it('shows list errors and recovers on the next push', async () => {
    const { fake, stores } = setup('errors');
    await stores.ceremonies.getState().refresh();
    expect(stores.ceremonies.getState().listError?.code).toBe('server-unreachable');
    fake.emit('onCeremonies', []);
    expect(stores.ceremonies.getState().listError).toBeNull();
  });
});

describe('card store', () => {
  it('selects the reader with a card and reads it', async () => {
    const { stores } = setup();
    await stores.card.getState().refresh();
    const s = stores.card.getState();
    expect(s.reader).toBe(READER);
    expect(s.card?.pkaKey?.chr).toBe('ACMEALICE00001');
    expect(s.card?.pin).toEqual({ state: 'not-verified', retries: 3 });
  });

  it('creates a key when the card has none, and records tries left', async () => {
    const { stores } = setup('no-key');
    await stores.card.getState().refresh();
    expect(stores.card.getState().card?.pkaKey).toBeNull();
    expect(await stores.card.getState().createKey('Custodian key', '111111')).toBe(false);
    expect(stores.card.getState().card?.pin.retries).toBe(2);
    expect(await stores.card.getState().createKey('Custodian key', FAKE_PIN)).toBe(true);
    expect(stores.card.getState().card?.pkaKey).not.toBeNull();
    await stores.card.getState().exportPka();
    expect(stores.card.getState().exported).toMatch(/\.pka$/);
  });

  for (const code of ['card-removed', 'card-no-answer'] as const) {
    it(`an approval failing with ${code} re-reads the readers: the card view never contradicts it`, async () => {
      const fake = createFakeBridge({ scenario: 'normal', now: () => NOW });
      let present = true;
      const api = {
        ...fake,
        // main's reader list is the one source of truth for card presence
        listReaders: async () => {
          const r = await fake.listReaders();
          return r.ok
            ? { ok: true as const, value: r.value.map((x) => ({ ...x, cardPresent: present })) }
            : r;
        },
        approveCeremony: async () => ({ ok: false as const, error: ipcError(code, 'x') }),
      };
      const stores = createStores(api, () => NOW);
      await stores.card.getState().refresh();
      expect(stores.card.getState().reader).toBe(READER);
      await stores.ceremonies.getState().open('c-7f3a91');
      stores.ceremonies.getState().openDialog('approve');
      present = false;
      await stores.ceremonies.getState().approve(READER, FAKE_PIN);
      expect(stores.ceremonies.getState().detailError?.code).toBe(code);
      await vi.waitFor(() => expect(stores.card.getState().reader).toBeNull());
      expect(stores.card.getState().card).toBeNull();
    });
  }

  it('turns a removed card into an error, not a stale card', async () => {
    const { stores } = setup('errors');
    await stores.card.getState().refresh();
    expect(stores.card.getState().card).toBeNull();
    expect(stores.card.getState().error?.code).toBe('card-removed');
  });
});

describe('trace and audit stores', () => {
  it('appends pushed trace lines once, capped, and filters them', async () => {
    const { fake, stores } = setup();
    await stores.trace.getState().refresh();
    const before = stores.trace.getState().entries.length;
    const line = { ...stores.trace.getState().entries[0]!, seq: 9999 };
    fake.emit('onTrace', line);
    fake.emit('onTrace', line);
    expect(stores.trace.getState().entries).toHaveLength(before + 1);
    for (let i = 0; i < TRACE_LIMIT + 10; i++)
      stores.trace.getState().append({ ...line, seq: 10_000 + i });
    expect(stores.trace.getState().entries).toHaveLength(TRACE_LIMIT);
    const entries = stores.trace.getState().entries;
    expect(filterTrace(entries, 'blocked').every((e) => e.decision === 'blocked')).toBe(true);
    expect(filterTrace(entries, 'all')).toHaveLength(entries.length);
  });

  it('verifies the audit log and reports tampering', async () => {
    const good = setup();
    await good.stores.audit.getState().verify();
    expect(good.stores.audit.getState().verification).toMatchObject({ ok: true });
    const bad = setup('errors');
    await bad.stores.audit.getState().verify();
    expect(bad.stores.audit.getState().verification).toMatchObject({ ok: false, line: 4 });
  });

  it('saves settings through main', async () => {
    const { stores } = setup();
    expect((await stores.settings.getState().save({ theme: 'dark' }))?.theme).toBe('dark');
  });
});
