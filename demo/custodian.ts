/**
 * The custodians' side of the demo: the real custodian engine (core/custodian) with the real
 * WebSocket connector, wrapped so the demo sees every frame in both directions. That record is
 * how the demo proves the PINs never leave the custodian's machine.
 * @module
 */
import { join } from 'node:path';
import { openAuditLog, type AuditLog } from '../core/audit/audit-log';
import type { CardOpener, PinPrompt, PinSource } from '../core/custodian/card-session';
import { createCustodianEngine, type CustodianEngine } from '../core/custodian/engine';
import type { EngineAuth, EngineEvent } from '../core/custodian/engine-types';
import { createWsConnector, type WsConnector } from '../core/net/ws-transport';
import { asciiBytes } from '../shared/codec/bytes';
import type { TrustAnchor } from '../shared/cvc/chain';

/** One WebSocket frame as the custodian's client sent or received it. */
export type Frame = {
  readonly custodian: string;
  readonly dir: 'sent' | 'received';
  readonly text: string;
};

/** Wraps a connector so every text frame is appended to `frames`. */
export function recordingConnector(
  inner: WsConnector,
  custodian: string,
  frames: Frame[],
): WsConnector {
  return (url, events) => {
    const conn = inner(url, {
      ...events,
      onText(text) {
        frames.push({ custodian, dir: 'received', text });
        events.onText(text);
      },
    });
    return {
      send(text) {
        frames.push({ custodian, dir: 'sent', text });
        conn.send(text);
      },
      close: (code, reason) => conn.close(code, reason),
      terminate: () => conn.terminate(),
    };
  };
}

/** A custodian as the demo drives it. */
export type CustodianClient = {
  readonly name: string;
  readonly engine: CustodianEngine;
  readonly events: EngineEvent[];
  readonly audit: AuditLog;
  /** Resolves with the first event (already seen or future) matching `pred`. */
  next<E extends EngineEvent>(
    pred: (e: EngineEvent) => e is E,
    what: string,
    ms?: number,
  ): Promise<E>;
  stop(): void;
};

/** What a custodian client needs. */
export type ClientOptions = {
  readonly name: string;
  readonly url: string;
  readonly auth: EngineAuth;
  readonly anchors: readonly TrustAnchor[];
  readonly keyId: number;
  readonly keyChr: string;
  readonly openCard: CardOpener;
  readonly frames: Frame[];
  /** Directory for this custodian's audit log. */
  readonly dir: string;
  /** Connector to wrap (default: the real `ws` connector). */
  readonly connector?: WsConnector;
};

/** Starts the real engine for one custodian, recording frames and events. */
export function startCustodian(o: ClientOptions): CustodianClient {
  const audit = openAuditLog(join(o.dir, `${o.name}-audit.jsonl`));
  const events: EngineEvent[] = [];
  const waiters: Array<() => void> = [];
  const engine = createCustodianEngine({
    url: o.url,
    connector: recordingConnector(o.connector ?? createWsConnector(), o.name, o.frames),
    auth: o.auth,
    anchors: o.anchors,
    ownKey: { keyId: o.keyId, chr: o.keyChr },
    openCard: o.openCard,
    audit,
    // The demo never needs a reconnect; a drop is a failure it reports.
    reconnect: false,
    client: { name: 'custodian-demo', version: '0.1.0' },
  });
  engine.on((e) => {
    events.push(e);
    for (const w of waiters.splice(0)) w();
  });
  engine.start();
  return {
    name: o.name,
    engine,
    events,
    audit,
    async next(pred, what, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        const stopped = events.find((e) => e.type === 'connection' && e.state.kind === 'stopped');
        if (stopped && stopped.type === 'connection' && stopped.state.kind === 'stopped') {
          throw new Error(
            `${o.name}: connection stopped (${stopped.state.reason}) while waiting for ${what}`,
          );
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          const seen = events.map((e) => e.type).join(', ') || 'nothing';
          throw new Error(`${o.name}: no ${what} within ${ms} ms (events: ${seen})`);
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    stop() {
      engine.stop();
      audit.close();
    },
  };
}

/** A typed PIN source that answers the engine's prompt with `pin` and records the prompts. */
export function typedPin(pin: string): {
  source: PinSource;
  prompts: PinPrompt[];
  given: Uint8Array[];
} {
  const prompts: PinPrompt[] = [];
  const given: Uint8Array[] = [];
  return {
    prompts,
    given,
    source: {
      kind: 'typed',
      async read(prompt) {
        prompts.push(prompt);
        const bytes = asciiBytes(pin);
        given.push(bytes);
        return bytes;
      },
    },
  };
}

/** Event guards used by the demo. */
export const is = {
  authenticated: (e: EngineEvent): e is Extract<EngineEvent, { type: 'connection' }> =>
    e.type === 'connection' && e.state.kind === 'authenticated',
  enrolled: (e: EngineEvent): e is Extract<EngineEvent, { type: 'enrolled' }> =>
    e.type === 'enrolled',
  offer:
    (ceremonyId: string) =>
    (e: EngineEvent): e is Extract<EngineEvent, { type: 'offer-added' }> =>
      e.type === 'offer-added' && e.offer.ceremonyId === ceremonyId,
  result:
    (offerId: string) =>
    (e: EngineEvent): e is Extract<EngineEvent, { type: 'result' }> =>
      e.type === 'result' && e.result.offerId === offerId,
  ended:
    (ceremonyId: string, reason: string) =>
    (e: EngineEvent): e is Extract<EngineEvent, { type: 'offer-removed' }> =>
      e.type === 'offer-removed' && e.ceremonyId === ceremonyId && e.reason === reason,
};
