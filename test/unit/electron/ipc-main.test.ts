import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNELS, INVOKE_CHANNELS, INVOKE_METHODS } from '../../../shared/ipc/channels';
import type { IpcResult } from '../../../shared/ipc/contract';
import {
  createEventSender,
  registerInvokeHandlers,
  type InvokeHandlers,
  type IpcMainPort,
} from '../../../electron/main/ipc/ipc-main';
import type { SenderInfo } from '../../../electron/main/ipc/sender-trust';
import { createFakeBridge } from '../../../renderer/dev/fake-bridge';

type Listener = (event: SenderInfo, ...args: unknown[]) => unknown;

function fakeIpc() {
  const handlers = new Map<string, Listener>();
  const port: IpcMainPort = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`duplicate ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel) => handlers.delete(channel),
  };
  const call = (channel: string, event: SenderInfo, ...args: unknown[]) =>
    Promise.resolve(handlers.get(channel)?.(event, ...args)) as Promise<IpcResult<unknown>>;
  return { port, handlers, call };
}

const trustedEvent: SenderInfo = {
  sender: { id: 1 },
  senderFrame: { url: 'app://custodian/index.html', parent: null },
};
const untrustedEvent: SenderInfo = {
  sender: { id: 1 },
  senderFrame: { url: 'https://evil.example/', parent: null },
};

/** Handlers backed by the fake bridge, with a spy per method. */
function spiedHandlers() {
  const fake = createFakeBridge({ now: () => Date.parse('2026-11-27T10:00:00Z') });
  const spies = Object.fromEntries(
    INVOKE_METHODS.map((m) => [
      m,
      vi.fn((req: unknown) => (fake[m] as (r?: unknown) => Promise<unknown>)(req)),
    ]),
  );
  return { handlers: spies as unknown as InvokeHandlers, spies };
}

describe('registerInvokeHandlers', () => {
  const isTrusted = (e: SenderInfo) => e.senderFrame?.url.startsWith('app://custodian/') ?? false;

  it('registers exactly one handler per contract channel and removes them all', () => {
    const ipc = fakeIpc();
    const off = registerInvokeHandlers(ipc.port, spiedHandlers().handlers, isTrusted);
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.values(INVOKE_CHANNELS).sort());
    off();
    expect(ipc.handlers.size).toBe(0);
  });

  it('drops calls from untrusted senders before validation or handler', async () => {
    const ipc = fakeIpc();
    const { handlers, spies } = spiedHandlers();
    const log: string[] = [];
    registerInvokeHandlers(ipc.port, handlers, isTrusted, (l) => log.push(l));
    const r = await ipc.call(INVOKE_CHANNELS.listCeremonies, untrustedEvent, undefined);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('forbidden');
    expect(spies['listCeremonies']).not.toHaveBeenCalled();
    expect(log.join('\n')).toMatch(/untrusted/);
  });

  it('refuses invalid payloads without calling the handler and without logging the PIN', async () => {
    const ipc = fakeIpc();
    const { handlers, spies } = spiedHandlers();
    const log: string[] = [];
    registerInvokeHandlers(ipc.port, handlers, isTrusted, (l) => log.push(l));
    const secret = 'hunter2-but-way-too-long-for-a-pin';
    const r = await ipc.call(INVOKE_CHANNELS.approveCeremony, trustedEvent, {
      ceremonyId: 'c-1',
      reader: 'r',
      pin: secret,
    });
    expect(!r.ok && r.error.code).toBe('invalid-request');
    expect(spies['approveCeremony']).not.toHaveBeenCalled();
    expect(log.join('\n')).not.toContain(secret);
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it('refuses unknown keys and extra arguments', async () => {
    const ipc = fakeIpc();
    const { handlers, spies } = spiedHandlers();
    registerInvokeHandlers(ipc.port, handlers, isTrusted);
    const extraKey = await ipc.call(INVOKE_CHANNELS.getCeremony, trustedEvent, {
      ceremonyId: 'c-1',
      __proto__x: 1,
    });
    expect(!extraKey.ok && extraKey.error.code).toBe('invalid-request');
    const extraArg = await ipc.call(
      INVOKE_CHANNELS.getCeremony,
      trustedEvent,
      { ceremonyId: 'c' },
      2,
    );
    expect(!extraArg.ok && extraArg.error.code).toBe('invalid-request');
    expect(spies['getCeremony']).not.toHaveBeenCalled();
  });

  it('property: arbitrary payloads never crash and reach the handler only when valid', async () => {
    const ipc = fakeIpc();
    const { handlers, spies } = spiedHandlers();
    registerInvokeHandlers(ipc.port, handlers, isTrusted);
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (payload) => {
        spies['approveCeremony']?.mockClear();
        const r = await ipc.call(INVOKE_CHANNELS.approveCeremony, trustedEvent, payload);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok && r.error.code === 'invalid-request') {
          expect(spies['approveCeremony']).not.toHaveBeenCalled();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('passes valid requests through and validates the response', async () => {
    const ipc = fakeIpc();
    const { handlers } = spiedHandlers();
    registerInvokeHandlers(ipc.port, handlers, isTrusted);
    const r = await ipc.call(INVOKE_CHANNELS.listCeremonies, trustedEvent, undefined);
    expect(r.ok && Array.isArray(r.value)).toBe(true);
  });

  it('turns a throwing handler or an invalid response into an internal error', async () => {
    const ipc = fakeIpc();
    const { handlers } = spiedHandlers();
    const broken: InvokeHandlers = {
      ...handlers,
      listReaders: async () => {
        throw new Error('boom');
      },
      listTrace: async () => ({ ok: true, value: [{ nonsense: true }] as never }),
    };
    registerInvokeHandlers(ipc.port, broken, isTrusted);
    const thrown = await ipc.call(INVOKE_CHANNELS.listReaders, trustedEvent, undefined);
    expect(!thrown.ok && thrown.error.code).toBe('internal');
    const invalid = await ipc.call(INVOKE_CHANNELS.listTrace, trustedEvent, {});
    expect(!invalid.ok && invalid.error.code).toBe('internal');
  });
});

describe('createEventSender', () => {
  it('sends valid payloads to live targets only and refuses invalid ones', () => {
    const sent: [string, unknown][] = [];
    const live = { isDestroyed: () => false, send: (c: string, p: unknown) => sent.push([c, p]) };
    const dead = { isDestroyed: () => true, send: () => sent.push(['dead', null]) };
    const send = createEventSender(() => [live, dead]);
    expect(send('onNavigate', { view: 'ceremony', ceremonyId: 'c-1' })).toBe(true);
    expect(sent).toEqual([[EVENT_CHANNELS.onNavigate, { view: 'ceremony', ceremonyId: 'c-1' }]]);
    expect(send('onNavigate', { view: 'nowhere' } as never)).toBe(false);
    expect(sent).toHaveLength(1);
  });
});
