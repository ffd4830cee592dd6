/**
 * Issue 7 item 8 (desktop part): a server that keeps sending refused offers is disconnected by
 * the engine and shows up in the app as a "server suspicious" security alert.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngineBackend } from '../../../../core/desktop-backend/engine-backend';
import { SUSPICIOUS_REFUSALS } from '../../../../core/custodian/rejection-guard';
import { generateTestCa } from '../../../../emulator/ca/test-ca';
import type { BackendEvent } from '../../../../shared/ipc/backend';
import { unwrap } from '../../../../shared/result';
import { fakeServer, makeOffer, targetDevice } from '../../../integration/custodian/harness';
import { enrolledHome } from '../../cli/custodian/watch-harness';
import { emulatedCardAccess } from './emulated-cards';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('7.8 a flooding server is a security alert in the app', () => {
  it('7.8 backend: a refusal flood raises the server-suspicious alert, no reconnect', async () => {
    const server = await fakeServer();
    cleanups.push(() => server.close());
    const w = await enrolledHome(server.url);
    const target = targetDevice(404, generateTestCa());
    server.setOnHello((ws) => {
      server.send(ws, {
        v: 1,
        type: 'welcome',
        custodianId: 'cust-9',
        serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        heartbeatSeconds: 15,
      });
      for (let i = 0; i < SUSPICIOUS_REFUSALS * 2; i++) server.send(ws, makeOffer(target, w.key));
    });
    const backend = await createEngineBackend({ home: w.home, cards: emulatedCardAccess([]) });
    cleanups.unshift(() => backend.stop());
    const alerted = new Promise<BackendEvent>((resolve) => {
      backend.subscribe((e) => {
        if (e.type === 'alerts' && e.alerts.some((a) => a.kind === 'server-suspicious')) resolve(e);
      });
    });
    backend.start();
    await alerted;
    const alert = unwrap(await backend.listAlerts()).find((a) => a.kind === 'server-suspicious');
    expect(alert?.serverId).toBe('default');
    expect(alert?.detail).toMatch(/security officer out of band/);
    expect(alert?.detail).toContain(String(SUSPICIOUS_REFUSALS));
    await new Promise((r) => setTimeout(r, 600));
    expect(server.messages.filter((m) => m.type === 'hello')).toHaveLength(1);
  }, 60_000);
});
