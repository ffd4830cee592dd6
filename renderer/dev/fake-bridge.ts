/**
 * A fake `window.custodian` for running the UI without Electron or an engine: every view and
 * every error state is reachable by choosing a scenario. Implements the same
 * {@link CustodianApi} type as the preload, so the UI cannot depend on anything the real
 * bridge lacks. Pure TS (no DOM), so store tests in Node use it too. Correct PIN: `123456`.
 * @module
 */
import type { CustodianApi, IpcResult, PayloadOf } from '../../shared/ipc/contract';
import type { EventMethod } from '../../shared/ipc/channels';
import { ipcError, type IpcError, type IpcErrorCode } from '../../shared/ipc/errors';
import { DEFAULT_SETTINGS } from '../../shared/ipc/defaults';
import type { ServerPreview, ServerView, Settings, TraceEntry } from '../../shared/ipc/model';
import { parseInvitation } from '../../shared/ipc/invitation';
import { createEventHub } from './fake-events';
import { createFakeCeremonies, type FakeReplaceOffer } from './fake-ceremonies';
import {
  PRODUCTION_ANCHOR,
  TEST_ANCHOR,
  sampleCard,
  samplePreview,
  sampleReaders,
} from './fake-data';
import { sampleAudit, sampleTrace } from './fake-logs';

/** Scenarios the fake can play. */
export const SCENARIOS = [
  'normal',
  'first-run',
  'no-key',
  'pinpad',
  'last-try',
  'hostile',
  'test-root',
  'errors',
  'empty',
  'suspicious',
  'no-tray',
] as const;
/** A scenario name. */
export type Scenario = (typeof SCENARIOS)[number];

/** The PIN the fake card accepts. */
export const FAKE_PIN = '123456';

/** Fake options. */
export type FakeOptions = {
  readonly scenario?: Scenario;
  readonly now?: () => number;
  /** Artificial latency per call in ms (0 in tests). */
  readonly delayMs?: number;
};

/** The fake plus test hooks. */
export type FakeBridge = CustodianApi & {
  /** Pushes an event as main would. */
  emit<E extends EventMethod>(method: E, payload: PayloadOf<E>): void;
  /** Every call made, in order, with the request (PINs replaced by `***`). */
  readonly calls: readonly { method: string; request: unknown }[];
  /** The server replaces a ceremony's offer (new offer id and digest, new purpose). */
  replaceOffer: FakeReplaceOffer;
  /** From now on a PIN-pad approval waits for the keypad until the dialog's Cancel. */
  holdKeypad(): void;
};

/** Creates the fake bridge. */
export function createFakeBridge(options: FakeOptions = {}): FakeBridge {
  const scenario = options.scenario ?? 'normal';
  const now = options.now ?? (() => Date.now());
  const delay = options.delayMs ?? 0;
  const hub = createEventHub();
  const emit = hub.emit;
  const calls: { method: string; request: unknown }[] = [];
  let settings: Settings = { ...DEFAULT_SETTINGS };
  let servers: ServerView[] =
    scenario === 'first-run'
      ? []
      : [
          {
            ...samplePreview('https://custody.acme.example', false),
            ...(scenario === 'test-root'
              ? { anchors: [PRODUCTION_ANCHOR, { ...TEST_ANCHOR, source: 'configured' as const }] }
              : {}),
            id: 'srv-acme',
            state: scenario === 'errors' ? 'offline' : 'connected',
          },
        ];
  const readers = sampleReaders(scenario === 'pinpad');
  let retries = scenario === 'last-try' ? 1 : 3;
  let hasKey = scenario !== 'no-key';
  const trace: TraceEntry[] = sampleTrace(now());
  const audit = sampleAudit(now());

  const reply = async <T>(value: T): Promise<IpcResult<T>> => {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return { ok: true, value };
  };
  const fail = async (
    code: IpcErrorCode,
    message: string,
    extra?: number,
  ): Promise<{ ok: false; error: IpcError }> => {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return { ok: false, error: ipcError(code, message, extra) };
  };
  const log = (method: string, request?: unknown) => {
    const safe =
      request !== null && typeof request === 'object' && 'pin' in request
        ? { ...request, pin: '***' }
        : request;
    calls.push({ method, request: safe });
  };
  const addTrace = (entry: Omit<TraceEntry, 'seq' | 'time'>) => {
    const full: TraceEntry = {
      ...entry,
      seq: trace.length + 1,
      time: new Date(now()).toISOString(),
    };
    trace.push(full);
    emit('onTrace', full);
  };
  const checkPin = (pin: string | undefined, reader: string, confirmLastTry = true) => {
    const pinPad = readers.find((r) => r.name === reader)?.pinPad ?? false;
    if (retries === 0) return fail('pin-blocked', 'VERIFY answered 6983', 0);
    if (retries === 1 && !confirmLastTry) return fail('pin-last-try', 'one try left', 1);
    if (pin === undefined) {
      return pinPad ? undefined : fail('pin-format', 'no PIN given for a reader without PIN pad');
    }
    if (pin !== FAKE_PIN) {
      retries -= 1;
      return retries === 0
        ? fail('pin-blocked', 'VERIFY answered 6983', 0)
        : fail('pin-wrong', `VERIFY answered 63C${retries}`, retries);
    }
    retries = 3;
    return undefined;
  };

  const ceremoniesApi = createFakeCeremonies({
    scenario,
    now,
    emit,
    log,
    reply,
    fail,
    checkPin,
    addTrace,
    audit,
  });
  const api: CustodianApi = {
    async getOverview() {
      log('getOverview');
      return reply({
        servers,
        settings,
        version: '0.1.0-fake',
        ...(scenario === 'no-tray' ? { trayAvailable: false } : { trayAvailable: true }),
      });
    },
    async previewServer(r) {
      log('previewServer', r);
      if (r.invite.startsWith('expired')) return fail('invite-expired', 'invite expired');
      if (r.url.includes('unreachable')) return fail('server-unreachable', 'connect ECONNREFUSED');
      if (r.url.includes('mitm')) return fail('server-identity', 'TLS fingerprint mismatch');
      return reply(previewOf(r));
    },
    async addServer(r) {
      log('addServer', r);
      const server: ServerView = {
        ...previewOf(r),
        id: 'srv-new',
        keyChr: 'ACMEALICE00001',
        reader: 'Nitrokey Nitrokey HSM (DENK01023650000) 00 00',
        state: 'connected',
      };
      servers = [server];
      emit('onServers', servers);
      return reply(server);
    },
    async removeServer(r) {
      log('removeServer', r);
      servers = servers.filter((s) => s.id !== r.serverId);
      return reply(null);
    },
    async listReaders() {
      log('listReaders');
      return reply(readers);
    },
    async inspectCard(r) {
      log('inspectCard', r);
      if (scenario === 'errors') return fail('card-removed', 'SCARD_W_REMOVED_CARD');
      const reader = readers.find((x) => x.name === r.reader);
      if (reader === undefined) return fail('no-reader', 'unknown reader');
      if (!reader.cardPresent) return fail('no-card', 'SCARD_E_NO_SMARTCARD');
      return reply(sampleCard(reader, retries, hasKey));
    },
    async createKey(r) {
      log('createKey', r);
      if (hasKey) return fail('key-exists', 'key 1 exists');
      const bad = checkPin(r.pin, r.reader);
      if (bad !== undefined) return bad;
      hasKey = true;
      const reader = readers.find((x) => x.name === r.reader) ?? readers[0];
      return reader === undefined
        ? fail('no-reader', 'none')
        : reply(sampleCard(reader, retries, true));
    },
    async exportPka(r) {
      log('exportPka', r);
      if (!hasKey) return fail('no-key', 'no key');
      return reply({ saved: true, fileName: '/home/alice/ACMEALICE00001.pka' });
    },
    ...ceremoniesApi,
    async listTrace(r) {
      log('listTrace', r);
      return reply(trace.slice(-(r.limit ?? trace.length)));
    },
    async listAudit(r) {
      log('listAudit', r);
      return reply(audit.slice(-(r.limit ?? audit.length)));
    },
    async verifyAudit() {
      log('verifyAudit');
      if (scenario === 'errors')
        return reply({
          ok: false as const,
          line: 4,
          reason: 'entry 4 was changed after it was written',
        });
      return reply({ ok: true as const, entries: audit.length, head: audit.at(-1)?.hash ?? '' });
    },
    async getSettings() {
      log('getSettings');
      return reply(settings);
    },
    async updateSettings(patch) {
      log('updateSettings', patch);
      const clean = Object.entries(patch).filter(([, v]) => v !== undefined);
      settings = { ...settings, ...(Object.fromEntries(clean) as Partial<Settings>) };
      return reply(settings);
    },
    async openExternal(r) {
      log('openExternal', r);
      return reply(r.url.startsWith('https://'));
    },
    ...hub.subscriptions,
  };
  return Object.assign(api, {
    emit,
    calls,
    replaceOffer: ceremoniesApi.replaceOffer,
    holdKeypad: ceremoniesApi.holdKeypad,
  });
}

/** Like the engine backend: the name as a pasted letter names it, else the host. */
function previewOf(r: { url: string; invite: string }): ServerPreview {
  const letter = parseInvitation(r.invite);
  const base = samplePreview(r.url, true);
  const named = letter.ok ? letter.value.serverName : undefined;
  if (named !== undefined) return { ...base, name: named, nameSource: 'invitation' };
  let host = r.url;
  try {
    host = new URL(r.url).host;
  } catch {
    // shown as typed
  }
  return { ...base, name: host, nameSource: 'address' };
}
