import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEngineBackend,
  type EngineBackend,
} from '../../../../core/desktop-backend/engine-backend';
import { ApduChannel } from '../../../../core/card/apdu-channel';
import { SmartCardHsm } from '../../../../core/sc-hsm/sc-hsm-session';
import { EmulatedSmartCardHsm } from '../../../../emulator/card/sc-hsm-card';
import { createDeviceState } from '../../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../../emulator/transport/in-process';
import type { BackendEvent } from '../../../../shared/ipc/backend';
import { asciiBytes } from '../../../../shared/codec/bytes';
import { PRODUCTION_ROOT_CHR } from '../../../../shared/cvc/chain';
import {
  auditVerifySchema,
  cardSchema,
  ceremonyDetailSchema,
  ceremonyResultSchema,
  readerSchema,
  traceEntrySchema,
} from '../../../../shared/ipc/model';
import { parsePkaFile } from '../../../../shared/pka/pka-file';
import { unwrap } from '../../../../shared/result';
import type { RunningServer } from '../../../../server/app';
import {
  PIN,
  SO_PIN,
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  testCa,
  type ScriptedCustodian,
} from '../../../integration/server/harness';
import { emulatedCardAccess, type EmulatedReader } from './emulated-cards';
import { shownOffer } from '../../../integration/custodian/offer-ref';

// The backend over emulated cards and the real server (in-process, plain ws on loopback).
const home = () => mkdtempSync(join(tmpdir(), 'custodian-app-'));
/** A home whose custodian config names the test PKI's root: a TEST root, never built in. */
const homeWithTestRoot = () => {
  const h = home();
  writeFileSync(join(h, 'test-root.cvc'), testCa().root.cvc);
  writeFileSync(
    join(h, 'config.json'),
    JSON.stringify({ version: 1, trustAnchors: ['test-root.cvc'] }),
  );
  return h;
};

async function initializedCard(): Promise<EmulatedSmartCardHsm> {
  const card = new EmulatedSmartCardHsm(
    createDeviceState(testCa(), { serial: 9000 + Math.floor(Math.random() * 900) }),
  );
  const t = createInProcessTransport(card);
  const hsm = new SmartCardHsm(new ApduChannel(t));
  await hsm.select();
  await hsm.initialize({ soPin: SO_PIN, userPin: asciiBytes(PIN), retries: 3 });
  await t.close('reset');
  return card;
}

describe('engine backend: the card', () => {
  const reader: EmulatedReader = { name: 'Emulated 00 00', card: undefined, opens: 0 };
  const empty: EmulatedReader = { name: 'Empty 01 00', card: undefined, opens: 0 };
  let backend: EngineBackend;
  let dir: string;
  beforeAll(async () => {
    reader.card = await initializedCard();
    dir = homeWithTestRoot();
    backend = await createEngineBackend({
      home: dir,
      cards: emulatedCardAccess([reader, empty]),
    });
  });
  afterAll(() => backend.stop());

  it('lists readers and explains a missing card or reader', async () => {
    const readers = unwrap(await backend.listReaders());
    for (const r of readers) readerSchema.parse(r);
    expect(readers.map((r) => [r.name, r.cardPresent])).toEqual([
      ['Emulated 00 00', true],
      ['Empty 01 00', false],
    ]);
    expect(await backend.inspectCard({ reader: 'Empty 01 00' })).toMatchObject({
      ok: false,
      error: { code: 'no-card' },
    });
    expect(await backend.inspectCard({ reader: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'no-reader' },
    });
  });

  it('inspects a card without a key: chain to the configured TEST root, 3 tries, no key', async () => {
    const card = cardSchema.parse(unwrap(await backend.inspectCard({ reader: reader.name })));
    expect(card.chain).toMatchObject({ status: 'test', anchor: testCa().root.chr });
    expect(card.pin).toEqual({ state: 'not-verified', retries: 3 });
    expect(card.pkaKey).toBeNull();
    expect(await backend.exportPka({ reader: reader.name })).toMatchObject({
      ok: false,
      error: { code: 'no-key' },
    });
  });

  it('key creation: a short PIN costs no try, a wrong one costs one, the right one creates the key', async () => {
    const short = asciiBytes('123');
    expect(await backend.createKey({ reader: reader.name, label: 'k', pin: short })).toMatchObject({
      ok: false,
      error: { code: 'pin-format' },
    });
    const wrong = asciiBytes('000000');
    expect(await backend.createKey({ reader: reader.name, label: 'k', pin: wrong })).toMatchObject({
      ok: false,
      error: { code: 'pin-wrong', retriesLeft: 2 },
    });
    const right = asciiBytes(PIN);
    const created = cardSchema.parse(
      unwrap(await backend.createKey({ reader: reader.name, label: 'Custodian key', pin: right })),
    );
    // The backend used copies: the caller's bytes are the caller's to wipe.
    expect(right).toEqual(asciiBytes(PIN));
    expect(created.pkaKey).toMatchObject({
      keyId: 1,
      label: 'Custodian key',
      curve: 'brainpoolP256r1',
    });
    expect(created.pin.retries).toBe(3); // a correct VERIFY resets the counter
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
      keyId: number;
      keyChr: string;
    };
    expect(config).toMatchObject({ keyId: 1, keyChr: created.pkaKey!.chr });
    expect(
      await backend.createKey({ reader: reader.name, label: 'again', pin: asciiBytes(PIN) }),
    ).toMatchObject({ ok: false, error: { code: 'key-exists' } });
  });

  it('exports the .pka of that key', async () => {
    const file = unwrap(await backend.exportPka({ reader: reader.name }));
    expect(file.fileName).toMatch(/^[A-Za-z0-9_-]+\.pka$/);
    const pka = unwrap(parsePkaFile(file.bytes));
    expect(file.fileName).toBe(`${pka.request.inner.body.chr}.pka`);
  });

  it('a chain to a configured (not built-in) root is a test device', async () => {
    const h = home();
    writeFileSync(join(h, 'root.cvc'), testCa().root.cvc);
    writeFileSync(
      join(h, 'config.json'),
      JSON.stringify({ version: 1, trustAnchors: ['root.cvc'] }),
    );
    const b = await createEngineBackend({ home: h, cards: emulatedCardAccess([reader]) });
    const card = unwrap(await b.inspectCard({ reader: reader.name }));
    expect(card.chain).toMatchObject({ status: 'test', anchor: testCa().root.chr });
    const plain = await createEngineBackend({ home: home(), cards: emulatedCardAccess([reader]) });
    expect(unwrap(await plain.inspectCard({ reader: reader.name })).chain.status).toBe('untrusted');
    await b.stop();
    await plain.stop();
  });
});

describe('engine backend: home and audit log', () => {
  it('refuses to start on a damaged config or a tampered audit log, with the reason', async () => {
    const bad = home();
    writeFileSync(join(bad, 'config.json'), '{"version":1,"typo":true}');
    await expect(createEngineBackend({ home: bad, cards: emulatedCardAccess([]) })).rejects.toThrow(
      /config is invalid/,
    );
    const missing = home();
    writeFileSync(
      join(missing, 'config.json'),
      JSON.stringify({ version: 1, trustAnchors: ['nope.cvc'] }),
    );
    await expect(
      createEngineBackend({ home: missing, cards: emulatedCardAccess([]) }),
    ).rejects.toThrow(/cannot read trust anchor/);
    const h = home();
    const b = await createEngineBackend({ home: h, cards: emulatedCardAccess([]) });
    expect(unwrap(await b.verifyAudit())).toMatchObject({ ok: true, entries: 0 });
    await b.stop();
    appendFileSync(join(h, 'audit.jsonl'), '{"seq":1}\n');
    await expect(createEngineBackend({ home: h, cards: emulatedCardAccess([]) })).rejects.toThrow(
      /failed verification/,
    );
  });

  it('checks the invitation form before any network', async () => {
    const b = await createEngineBackend({ home: home(), cards: emulatedCardAccess([]) });
    expect(await b.previewServer({ url: 'http://127.0.0.1:1', invite: 'short' })).toMatchObject({
      ok: false,
      error: { code: 'invite-invalid' },
    });
    expect(await b.previewServer({ url: 'ftp://x', invite: 'a'.repeat(30) })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    // Adding without the preview step is refused: the fingerprint was never shown.
    expect(await b.addServer({ url: 'http://127.0.0.1:1', invite: 'a'.repeat(30) })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    expect(unwrap(await b.listServers())).toEqual([]);
    await b.stop();
  });
});

describe('engine backend: a ceremony against the real server', () => {
  let server: RunningServer;
  let backend: EngineBackend;
  let bob: ScriptedCustodian;
  let carol: ScriptedCustodian;
  const events: BackendEvent[] = [];
  const reader: EmulatedReader = { name: 'Emulated 00 00', card: undefined, opens: 0 };
  let ceremonyId = '';

  beforeAll(async () => {
    const target = { card: await targetCard(3, 2), opens: 0, fail: false };
    server = await startTestServer(target, dataDir());
    const alice = await custodianCard();
    reader.card = alice.card;
    backend = await createEngineBackend({
      home: homeWithTestRoot(),
      cards: emulatedCardAccess([reader]),
      resultTimeoutMs: 5_000,
    });
    backend.subscribe((e) => void events.push(e));
    bob = await enroll(server, await custodianCard(), 'Bob');
    carol = await enroll(server, await custodianCard(), 'Carol');
  }, 60_000);
  afterAll(async () => {
    bob?.close();
    carol?.close();
    await backend?.stop();
    await server?.stop();
  });

  const waitFor = async <T>(probe: () => T | undefined): Promise<T> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error('timeout');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it("enrolls with the card's .pka after the preview and connects", async () => {
    const inv = await adminApi<{ token: string }>(server, 'POST', '/api/enrollments', {
      target: 't1',
      name: 'Alice',
    });
    const preview = unwrap(
      await backend.previewServer({ url: server.url, invite: inv.body.token }),
    );
    expect(preview.tlsFingerprint).toBe('0'.repeat(64)); // plain loopback: no certificate
    const added = unwrap(await backend.addServer({ url: server.url, invite: inv.body.token }));
    expect(added.url).toBe(server.url);
    // Only the production root is built in; the configured test root is listed as a TEST root.
    expect(added.anchors).toEqual([
      expect.objectContaining({ name: PRODUCTION_ROOT_CHR, test: false, source: 'built-in' }),
      expect.objectContaining({ name: testCa().root.chr, test: true, source: 'configured' }),
    ]);
    await waitFor(() =>
      events.find((e) => e.type === 'servers' && e.servers.some((s) => s.state === 'connected')),
    );
    // The token is single-use.
    const again = await backend.previewServer({ url: server.url, invite: inv.body.token });
    expect(again.ok).toBe(true);
    expect(await backend.addServer({ url: server.url, invite: inv.body.token })).toMatchObject({
      ok: false,
      error: { code: 'invite-invalid' },
    });
  });

  it('an offer arrives as a waiting ceremony with a detail that passes the schema', async () => {
    const r = await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
      target: 't1',
      purpose: 'Sign the CRL',
      requester: 'Olga',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    ceremonyId = r.body.id;
    await waitFor(() =>
      events.find((e) => e.type === 'ceremonies' && e.ceremonies.some((c) => c.id === ceremonyId)),
    );
    const detail = ceremonyDetailSchema.parse(unwrap(await backend.getCeremony({ ceremonyId })));
    expect(detail).toMatchObject({
      status: 'waiting',
      required: 2,
      total: 3,
      purpose: 'Sign the CRL',
      targetChain: { status: 'test', anchor: testCa().root.chr },
    });
    // The list flags the TEST target too, before anyone opens it.
    const listed = unwrap(await backend.listCeremonies()).find((c) => c.id === ceremonyId);
    expect(listed?.targetChain).toMatchObject({ status: 'test', anchor: testCa().root.chr });
    expect(await backend.getCeremony({ ceremonyId: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'ceremony-not-found' },
    });
  });

  it('a TEST target is refused without the acknowledgement of exactly its root, before the card', async () => {
    const opensBefore = reader.opens;
    const pin = asciiBytes(PIN);
    expect(
      await backend.approveCeremony({
        ceremonyId,
        ...(await shownOffer(backend, ceremonyId)),
        reader: reader.name,
        pin,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'test-anchor-unacknowledged' },
    });
    expect(
      await backend.approveCeremony({
        ceremonyId,
        ...(await shownOffer(backend, ceremonyId)),
        reader: reader.name,
        pin,
        acknowledgeTestAnchor: PRODUCTION_ROOT_CHR,
      }),
    ).toMatchObject({ ok: false, error: { code: 'test-anchor-unacknowledged' } });
    // Neither the card nor the PIN was touched, and nothing reached the server.
    expect(reader.opens).toBe(opensBefore);
    expect(unwrap(await backend.listTrace({}))).toEqual([]);
    const snap = await adminApi<{ progress: { authenticated: number } }>(
      server,
      'GET',
      `/api/ceremonies/${ceremonyId}`,
    );
    expect(snap.body.progress.authenticated).toBe(0);
    expect(unwrap(await backend.getCeremony({ ceremonyId })).status).toBe('waiting');
  });

  it('wrong PIN: pin-wrong with tries left, nothing sent; right PIN: approved, counted by the card', async () => {
    const ack = { acknowledgeTestAnchor: testCa().root.chr };
    const wrong = await backend.approveCeremony({
      ceremonyId,
      ...(await shownOffer(backend, ceremonyId)),
      reader: reader.name,
      pin: asciiBytes('000000'),
      ...ack,
    });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'pin-wrong', retriesLeft: 2 } });
    const pin = asciiBytes(PIN);
    const result = ceremonyResultSchema.parse(
      unwrap(
        await backend.approveCeremony({
          ceremonyId,
          ...(await shownOffer(backend, ceremonyId)),
          reader: reader.name,
          pin,
          ...ack,
        }),
      ),
    );
    expect(result).toEqual({
      ceremonyId,
      outcome: 'approved',
      approvals: 1,
      required: 2,
      blocked: 0,
    });
    expect(pin).toEqual(asciiBytes(PIN));
    const snap = await adminApi<{ progress: { authenticated: number } }>(
      server,
      'GET',
      `/api/ceremonies/${ceremonyId}`,
    );
    expect(snap.body.progress.authenticated).toBe(1);
    expect(
      await backend.approveCeremony({
        ceremonyId,
        ...(await shownOffer(backend, ceremonyId)),
        reader: reader.name,
        pin,
        ...ack,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'ceremony-closed' },
    });
    expect(await backend.declineCeremony({ ceremonyId })).toMatchObject({
      ok: false,
      error: { code: 'ceremony-closed' },
    });
  });

  it('the trace shows the forwarded SIGN; the audit log lists and verifies it', async () => {
    const trace = unwrap(await backend.listTrace({}));
    expect(trace).toHaveLength(1);
    const line = traceEntrySchema.parse(trace[0]);
    expect(line).toMatchObject({
      decision: 'forwarded',
      rule: 'sign-pka-input',
      sw: 0x9000,
      ceremonyId,
    });
    expect(line.command.startsWith('80680173')).toBe(true);
    expect(events.some((e) => e.type === 'trace')).toBe(true);
    const audit = unwrap(await backend.listAudit({ limit: 100 }));
    expect(audit.map((a) => a.kind)).toEqual(
      expect.arrayContaining([
        'enrollment',
        'approval',
        'pin-failed',
        'pin-verified',
        'apdu-forwarded',
      ]),
    );
    expect(auditVerifySchema.parse(unwrap(await backend.verifyAudit()))).toMatchObject({
      ok: true,
      entries: audit.length,
    });
    expect(unwrap(await backend.listAudit({ limit: 2 }))).toHaveLength(2);
  });

  it('B approves: the ceremony reaches quorum in the list', async () => {
    const offer = await bob.offer(ceremonyId);
    await bob.approve(offer);
    await waitFor(() =>
      events.find(
        (e) =>
          e.type === 'ceremonies' &&
          e.ceremonies.some((c) => c.id === ceremonyId && c.status === 'quorum'),
      ),
    );
    const detail = unwrap(await backend.getCeremony({ ceremonyId }));
    expect(detail.status).toBe('quorum');
    expect(
      detail.custodians
        .filter((c) => c.state === 'approved')
        .map((c) => c.name)
        .sort(),
    ).toEqual(['Alice', 'Bob']);
    expect(detail.custodians.find((c) => c.me)?.name).toBe('Alice');
  });
});
