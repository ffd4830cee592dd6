import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEngineBackend,
  type EngineBackend,
} from '../../../../core/desktop-backend/engine-backend';
import { asciiBytes } from '../../../../shared/codec/bytes';
import { unwrap } from '../../../../shared/result';
import type { RunningServer } from '../../../../server/app';
import {
  PIN,
  adminApi,
  custodianCard,
  dataDir,
  enroll,
  startTestServer,
  targetCard,
  testCa,
  type ScriptedCustodian,
} from '../../../integration/server/harness';
import { shownOffer } from '../../../integration/custodian/offer-ref';
import { emulatedCardAccess, type EmulatedReader } from './emulated-cards';

// The PIN-pad dialog's Cancel (IPC `cancelPinPad`) through the real engine backend: the pending
// keypad entry on an emulated PIN-pad reader is aborted, audited as the custodian's cancel, and
// nothing is signed; the ceremony still waits for this custodian.
describe("engine backend: the custodian's Cancel during a PIN-pad entry", () => {
  let server: RunningServer;
  let backend: EngineBackend;
  const others: ScriptedCustodian[] = [];
  // The person at the keypad: each entry waits for `type` (or forever).
  let type: ((pin: Uint8Array | undefined) => void) | undefined;
  let entries = 0;
  const reader: EmulatedReader = {
    name: 'Emulated PIN pad 00 00',
    card: undefined,
    opens: 0,
    pinPad: {
      enter: () =>
        new Promise((resolve) => {
          entries += 1;
          type = resolve;
        }),
    },
  };

  beforeAll(async () => {
    server = await startTestServer(
      { card: await targetCard(3, 2), opens: 0, fail: false },
      dataDir(),
    );
    const alice = await custodianCard();
    reader.card = alice.card;
    const home = mkdtempSync(join(tmpdir(), 'custodian-pinpad-'));
    writeFileSync(join(home, 'test-root.cvc'), testCa().root.cvc);
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({ version: 1, trustAnchors: ['test-root.cvc'] }),
    );
    backend = await createEngineBackend({
      home,
      cards: emulatedCardAccess([reader]),
      resultTimeoutMs: 5_000,
    });
    others.push(await enroll(server, await custodianCard(), 'Bob'));
    others.push(await enroll(server, await custodianCard(), 'Carol'));
    const inv = await adminApi<{ token: string }>(server, 'POST', '/api/enrollments', {
      target: 't1',
      name: 'Alice',
    });
    unwrap(await backend.previewServer({ url: server.url, invite: inv.body.token }));
    unwrap(await backend.addServer({ url: server.url, invite: inv.body.token }));
  }, 60_000);
  afterAll(async () => {
    for (const o of others) o.close();
    await backend?.stop();
    await server?.stop();
  });

  const waitFor = async <T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error('timeout');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it(
    'aborts the keypad entry: pin-cancelled, audited, nothing signed, still waiting',
    { timeout: 60_000 },
    async () => {
      const r = await adminApi<{ id: string }>(server, 'POST', '/api/ceremonies', {
        target: 't1',
        purpose: 'Sign the CRL',
        requester: 'Olga',
      });
      expect(r.status).toBe(201);
      const ceremonyId = r.body.id;
      await waitFor(async () => {
        const list = await backend.listCeremonies();
        return list.ok && list.value.some((c) => c.id === ceremonyId) ? true : undefined;
      });
      const detail = unwrap(await backend.getCeremony({ ceremonyId }));
      // Nothing pending yet: a stray Cancel is a no-op.
      expect(await backend.cancelPinPad({ ceremonyId })).toEqual({ ok: true, value: false });
      const approving = backend.approveCeremony({
        ceremonyId,
        ...(await shownOffer(backend, ceremonyId)),
        reader: reader.name,
        acknowledgeTestAnchor: detail.targetChain.anchor!,
      });
      // The reader now waits for the keypad; the custodian presses Cancel in the dialog.
      await waitFor(() => (entries === 1 ? true : undefined));
      expect(await backend.cancelPinPad({ ceremonyId })).toEqual({ ok: true, value: true });
      const answer = await approving;
      expect(answer).toMatchObject({ ok: false, error: { code: 'pin-cancelled' } });
      // Audited as the custodian's cancel; nothing was forwarded to the card for signing.
      const audit = unwrap(await backend.listAudit({}));
      expect(audit.some((e) => e.kind === 'pin-cancelled')).toBe(true);
      // (The decision to approve is audited before the card is used; the card never verified.)
      expect(audit.map((e) => e.kind).slice(-2)).toEqual(['approval', 'pin-cancelled']);
      expect(audit.some((e) => e.kind === 'pin-verified' || e.kind === 'apdu-forwarded')).toBe(
        false,
      );
      expect(unwrap(await backend.listTrace({}))).toEqual([]);
      // The server counted nothing; the ceremony still waits for this custodian.
      const snap = await adminApi<{ progress: { authenticated: number } }>(
        server,
        'GET',
        `/api/ceremonies/${ceremonyId}`,
      );
      expect(snap.body.progress.authenticated).toBe(0);
      expect(unwrap(await backend.getCeremony({ ceremonyId })).status).toBe('waiting');
      // A late key press on the reader changes nothing.
      type?.(asciiBytes(PIN));
      expect(unwrap(await backend.listTrace({}))).toEqual([]);
    },
  );
});
